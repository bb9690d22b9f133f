"""Each event that moves a conversation's figures refreshes them (in a worker, in order).

Customers' messages are left out (the ingest hot path): the number of contacts
they open is read again at the next event that counts, at the latest the
resolution, which is when the measures read it.
"""

from comptoir.events import kinds
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.reports.facts import FACT_KINDS, refresh


def moves_a_figure(event: Event) -> bool:
    if event.conversation_id is None:
        return False
    if event.kind != kinds.MESSAGE_CREATED.name:
        return True
    payload = event.payload
    return payload["author_kind"] == "agent" and not payload["is_internal_note"]


@on(
    FACT_KINDS,
    when=moves_a_figure,
    in_worker=True,
    lock=lambda event: f"reports:conversation:{event.conversation_id}",
    retries=3,
)
def refresh_conversation_facts(event: Event) -> None:
    refresh(event.conversation_id)
