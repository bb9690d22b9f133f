"""The task API on the engine of the database under test (SQLite: ``database``, PostgreSQL:
``procrastinate``): jobs commit with the transaction that queues them, run in
order per lock, are retried with their wait, and run at most once at a time."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from comptoir.tasks import AlreadyQueued, run_pending, task
from tests.task_helpers import make_jobs_due, queued_task_names
from tests.worker_tasks import write_mark

runs: list[tuple[str, int]] = []


@task()
def record_run(label: str, number: int) -> None:
    runs.append((label, number))


failures = {"left": 0}


@task(retries=2, retry_wait=60)
def fail_then_succeed(label: str) -> None:
    if failures["left"] > 0:
        failures["left"] -= 1
        raise RuntimeError(f"{label}: not yet")
    runs.append((label, 0))


@pytest.fixture(autouse=True)
def _fresh_runs():
    runs.clear()
    failures["left"] = 0


def test_the_engine_follows_the_database(db):
    engine = "database" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else ""
    assert (engine or "procrastinate") == settings.TASKS_BACKEND


def test_a_job_runs_with_its_arguments(db):
    record_run.enqueue(label="a", number=1)
    assert queued_task_names() == [record_run.name]
    assert run_pending() == 1
    assert runs == [("a", 1)]
    assert queued_task_names() == []
    assert run_pending() == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_queued_in_a_transaction_that_rolls_back_never_runs(tmp_path: Path):
    with pytest.raises(RuntimeError), transaction.atomic():
        write_mark.enqueue(folder=str(tmp_path), name="rolled-back")
        raise RuntimeError("the change that queued it failed")
    with transaction.atomic():
        write_mark.enqueue(folder=str(tmp_path), name="committed")
    assert [name for name in queued_task_names() if name == write_mark.name] == [write_mark.name]
    run_pending()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["committed"]


def test_a_job_waits_for_its_time(db):
    record_run.enqueue(label="later", number=1, run_after=timedelta(hours=1))
    record_run.enqueue(label="now", number=2)
    assert run_pending() == 1
    assert runs == [("now", 2)]
    make_jobs_due()
    assert run_pending() == 1
    assert runs == [("now", 2), ("later", 1)]


def test_jobs_sharing_a_lock_run_in_order_and_a_retry_holds_back_the_next(db):
    failures["left"] = 1
    fail_then_succeed.enqueue(label="first", lock="conversation:1")
    record_run.enqueue(label="second", number=2, lock="conversation:1")
    record_run.enqueue(label="other conversation", number=3, lock="conversation:2")
    # The first fails and waits for its retry: the second must not overtake it.
    assert run_pending() == 2
    assert runs == [("other conversation", 3)]
    make_jobs_due()
    assert run_pending() == 2
    assert runs == [("other conversation", 3), ("first", 0), ("second", 2)]


def test_a_failing_job_is_retried_then_given_up(db):
    failures["left"] = 10
    fail_then_succeed.enqueue(label="doomed")
    for _ in range(3):  # the first try and two retries
        assert run_pending() == 1
        make_jobs_due()
    assert run_pending() == 0
    assert failures["left"] == 7
    assert runs == []


def test_a_queueing_lock_keeps_one_waiting_job(db):
    record_run.enqueue(label="a", number=1, queueing_lock="once")
    with pytest.raises(AlreadyQueued):
        record_run.enqueue(label="b", number=2, queueing_lock="once")
    record_run.enqueue(label="c", number=3)  # the transaction is still usable
    assert run_pending() == 2
    assert runs == [("a", 1), ("c", 3)]
    record_run.enqueue(label="d", number=4, queueing_lock="once")  # ran: free again
    assert run_pending() == 1


def test_a_running_job_is_not_taken_by_another_round(db):
    seen_by_second_round: list[int] = []

    @task(name="tests.test_tasks.nested_round")
    def nested_round() -> None:
        seen_by_second_round.append(run_pending())

    nested_round.enqueue()
    assert run_pending() == 1
    assert seen_by_second_round == [0]
