"""Side effects hang on event kinds: ``@on(kind)`` instead of calls wired into actions.

A listener runs once the event's transaction has committed, in one of two ways:

- ``@on(kind)``: in the process that appended the event, right after the commit
  (cheap, best effort: a crash between commit and listener loses the call);
- ``@on(kind, in_worker=True)``: as a task. Its job is queued in the event's own
  transaction (committed or rolled back with it) and run by a worker, with
  retries; ``lock`` orders the runs sharing a key (a conversation's messages);
- ``@on(kind, in_transaction=True)``: inside the event's transaction, at once:
  for rows that must exist exactly when the event does (outbound webhooks'
  deliveries). It must be cheap and must not fail; its writes commit or roll
  back with the event.

``when`` decides, inside the transaction and without a query where possible,
whether the event concerns the listener at all: most messages need no job.
Listeners live in each app's ``listeners.py`` (imported when Django starts).
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from comptoir.events.kinds import EventKind
from comptoir.events.models import Event
from comptoir.tasks.catalogue import register
from comptoir.tasks.registry import Task

logger = logging.getLogger(__name__)

EventCheck = Callable[[Event], bool]
EventKey = Callable[[Event], str | None]


@dataclass(frozen=True)
class Listener:
    name: str
    func: Callable[[Event], None]
    when: EventCheck | None
    # Set for listeners run by a worker: the task that loads the event and calls ``func``.
    task: Task | None
    lock: EventKey | None
    in_transaction: bool = False


_listeners: dict[str, list[Listener]] = defaultdict(list)


def on(
    kinds: EventKind | Iterable[EventKind],
    *,
    when: EventCheck | None = None,
    in_worker: bool = False,
    in_transaction: bool = False,
    lock: EventKey | None = None,
    retries: int = 0,
    retry_wait: int = 30,
    queue: str = "default",
) -> Callable[[Callable[[Event], None]], Callable[[Event], None]]:
    """Call the decorated function with each committed event of ``kinds`` (see module doc)."""
    kinds = [kinds] if isinstance(kinds, EventKind) else list(kinds)
    if lock is not None and not in_worker:
        raise ValueError("only listeners run by a worker take a lock")
    if in_worker and in_transaction:
        raise ValueError("a listener runs in a worker or in the transaction, not both")

    def hang(func: Callable[[Event], None]) -> Callable[[Event], None]:
        name = f"{func.__module__}.{func.__qualname__}"
        task = None
        if in_worker:
            task = register(
                Task(
                    name=name,
                    func=partial(_run_for_event, func),
                    queue=queue,
                    retries=retries,
                    retry_wait=retry_wait,
                )
            )
        listener = Listener(name, func, when, task, lock, in_transaction)
        for kind in kinds:
            _listeners[kind.name].append(listener)
        return func

    return hang


def _run_for_event(func: Callable[[Event], None], *, event_id: int) -> None:
    event = Event.objects.filter(pk=event_id).first()
    if event is None:  # its brand was deleted since
        return
    func(event)


def dispatch(event: Event) -> None:
    """Queue or schedule the listeners of a just-appended event (inside its transaction)."""
    for listener in _listeners.get(event.kind, ()):
        if listener.when is not None and not listener.when(event):
            continue
        if listener.task is not None:
            lock = listener.lock(event) if listener.lock is not None else None
            listener.task.enqueue(event_id=event.pk, lock=lock)
        elif listener.in_transaction:
            listener.func(event)
        else:
            transaction.on_commit(partial(_run_after_commit, listener, event))


def _run_after_commit(listener: Listener, event: Event) -> None:
    try:
        listener.func(event)
    except Exception:
        # The event is committed; its listener's failure must not undo or fail the action.
        logger.exception("listener %s failed on event %s", listener.name, event.pk)


def listeners_of(kind: EventKind) -> list[Listener]:
    return list(_listeners.get(kind.name, ()))
