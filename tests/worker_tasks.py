"""Tasks for the worker tests, imported by real ``comptoir worker`` processes (``--import``)."""

import os
import time
from pathlib import Path

from comptoir.tasks import task


@task()
def leave_marks(folder: str) -> None:
    """Mark that this process started the job, run until the test allows it to end, mark it done.

    The test kills the first worker while it waits here: the job must then be
    finished by another worker.
    """
    marks = Path(folder)
    (marks / f"started-{os.getpid()}").touch()
    while not (marks / "finish").exists():
        time.sleep(0.02)  # waiting on the test's file, not on a duration
    (marks / f"done-{os.getpid()}").touch()


@task()
def write_mark(folder: str, name: str) -> None:
    (Path(folder) / name).touch()
