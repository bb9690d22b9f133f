"""Real ``comptoir worker`` processes: a worker killed mid-job loses nothing.

On PostgreSQL the workers are Procrastinate workers sharing the test database;
on SQLite they are ``database``-engine workers sharing a site's database file.
"""

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from tests.live_server import Site
from tests.waiting import wait_until
from tests.worker_tasks import leave_marks

pytestmark = pytest.mark.workers

# Heartbeats every half second; a worker silent for 2 s is dead; sweep every second.
FAST_STALL_DETECTION = {
    "TASKS_HEARTBEAT_SECONDS": "0.5",
    "TASKS_STALLED_AFTER_SECONDS": "2",
    "TASKS_DATABASE_LEASE_SECONDS": "2",
    "TASKS_STALLED_SWEEP_CRON": "* * * * * *",
    "TASKS_POLL_SECONDS": "0.2",
    "LOG_LEVEL": "WARNING",
}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "comptoir", "worker", "--import", "tests.worker_tasks"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def marks(folder: Path, prefix: str) -> list[str]:
    return sorted(p.name.split("-", 1)[1] for p in folder.glob(f"{prefix}-*"))


def kill_a_worker_mid_job(
    env: dict[str, str], folder: Path, logs: Path, job_is_gone: Callable[[], bool]
) -> None:
    """A job's first worker is SIGKILLed while running it; a second worker must finish it.

    The workers are stopped only once ``job_is_gone`` holds: the job marks itself
    done before its worker records the success, and a worker stopped in between
    would leave the job for the next one.
    """
    first = start_worker(env, logs / "first.log")
    second = None
    try:
        wait_until(lambda: marks(folder, "started") == [str(first.pid)], "the first worker's run")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        (folder / "finish").touch()
        second = start_worker(env, logs / "second.log")
        wait_until(lambda: marks(folder, "done") != [], "the job to be finished")
        assert marks(folder, "done") == [str(second.pid)], (logs / "second.log").read_text()
        assert marks(folder, "started") == sorted([str(first.pid), str(second.pid)])
        wait_until(job_is_gone, "the finished job to be recorded (succeeded jobs are deleted)")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate workers")
@pytest.mark.django_db(transaction=True)
def test_procrastinate_job_of_a_killed_worker_is_finished_by_another(tmp_path: Path):
    folder = tmp_path / "marks"
    folder.mkdir()
    leave_marks.enqueue(folder=str(folder))
    name = connection.settings_dict["NAME"]
    env = {**os.environ, **FAST_STALL_DETECTION}
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"

    def job_is_gone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT status FROM procrastinate_jobs WHERE task_name = %s", [leave_marks.name]
            )
            return cursor.fetchall() == []

    kill_a_worker_mid_job(env, folder, tmp_path, job_is_gone)
    with connection.cursor() as cursor:
        # The workers' periodic jobs and records are not flushed with Django's tables.
        cursor.execute("DELETE FROM procrastinate_jobs")
        cursor.execute("DELETE FROM procrastinate_workers")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite engine's workers")
def test_database_job_of_a_killed_worker_is_finished_by_another(tmp_path: Path):
    site = Site(tmp_path, extra_env=FAST_STALL_DETECTION)
    site.manage("migrate", "--no-input")
    folder = tmp_path / "marks"
    folder.mkdir()
    site.python(
        "import json; from tests.worker_tasks import leave_marks; "
        f"leave_marks.enqueue(folder={str(folder)!r}); print(json.dumps({{}}))"
    )

    def job_is_gone() -> bool:
        with sqlite3.connect(tmp_path / "comptoir.sqlite3", timeout=30) as database:
            rows = database.execute(
                "SELECT COUNT(*) FROM tasks_taskjob WHERE task_name = ?", [leave_marks.name]
            ).fetchone()
        return rows == (0,)

    kill_a_worker_mid_job(site.env, folder, tmp_path, job_is_gone)
    left = site.python(
        "import json; from comptoir.tasks.models import TaskJob; "
        f"jobs = TaskJob.objects.filter(task_name={leave_marks.name!r}).count(); "
        "print(json.dumps({'jobs': jobs}))"
    )
    assert left == {"jobs": 0}
