"""The tasks this process knows, by name: what a worker looks a job's task up in.

Kept apart from ``registry`` (where tasks are declared and queued) so that the
engines, which ``registry`` calls, can read it without importing ``registry``.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comptoir.tasks.registry import PeriodicTask, Task


class AlreadyQueued(Exception):
    """A job with the same ``queueing_lock`` is already waiting to run: nothing was queued."""


_tasks: dict[str, "Task"] = {}
_periodic: dict[str, "PeriodicTask"] = {}


def register(new: "Task") -> "Task":
    if _tasks.get(new.name, new).func is not new.func:
        raise ValueError(f"two tasks are named {new.name!r}")
    _tasks[new.name] = new
    return new


def register_periodic(new: "PeriodicTask") -> None:
    _periodic[new.task.name] = new


def registered_tasks() -> dict[str, "Task"]:
    return dict(_tasks)


def periodic_tasks() -> list["PeriodicTask"]:
    return list(_periodic.values())
