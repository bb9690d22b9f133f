"""A contact that ends gets its survey: a resolved conversation, an ended call."""

from comptoir.conversations.models import Contact, Direction
from comptoir.events.actors import ActorKind
from comptoir.events.kinds import CALL_UPDATED, CONVERSATION_UPDATED
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.surveys.actions import plan_after_contact
from comptoir.surveys.models import SurveySettings


def brand_surveys(brand_id: int) -> bool:
    """One indexed read, only on resolutions and ended calls (never on messages)."""
    return SurveySettings.objects.filter(brand_id=brand_id).exists()


# A call that reached someone and ended (not a missed or failed one).
_ANSWERED_AND_ENDED = {"completed"}


def resolved_in_surveying_brand(event: Event) -> bool:
    return event.payload["status"] == "resolved" and brand_surveys(event.brand_id)


def call_ended_in_surveying_brand(event: Event) -> bool:
    payload = event.payload
    return (
        payload["status"] in _ANSWERED_AND_ENDED
        and payload["answered_at"] is not None
        and brand_surveys(event.brand_id)
    )


@on(
    CONVERSATION_UPDATED,
    when=resolved_in_surveying_brand,
    in_worker=True,
    lock=lambda event: f"conversation:{event.conversation_id}",
    retries=3,
)
def survey_after_resolution(event: Event) -> None:
    """The customer's last contact (not a call: those are asked when they end)."""
    contact_id = (
        Contact.objects.filter(conversation_id=event.payload["id"], direction=Direction.INBOUND)
        .exclude(channel="phone")
        .order_by("-started_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if contact_id is not None:
        plan_after_contact(contact_id, auto_closed=event.actor_kind == ActorKind.SYSTEM)


@on(CALL_UPDATED, when=call_ended_in_surveying_brand, in_worker=True, retries=3)
def survey_after_call(event: Event) -> None:
    plan_after_contact(event.payload["contact_id"], agent_id=event.payload["agent_id"])
