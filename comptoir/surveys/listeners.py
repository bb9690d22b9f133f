"""A contact that ends gets its survey: a resolved conversation, an ended call. A customer's
message and a pending conversation get their proactive follow-up timed (``proactive``)."""

from django.db import transaction

from comptoir.conversations.models import Contact, Direction
from comptoir.events.actors import ActorKind
from comptoir.events.kinds import (
    CALL_UPDATED,
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    MESSAGE_CREATED,
)
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.surveys.actions import plan_after_contact
from comptoir.surveys.models import ProactiveSettings, SurveySettings
from comptoir.surveys.tasks import schedule_check_in, schedule_reminder


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


def _proactive_hours(brand_id: int, field: str) -> int:
    hours = ProactiveSettings.objects.filter(brand_id=brand_id).values_list(field, flat=True)
    return hours.first() or 0


def customer_wrote(event: Event) -> bool:
    """A customer's message in a brand that checks in (one indexed read, on those only)."""
    payload = event.payload
    return (
        payload["author_kind"] == "customer"
        and payload["direction"] == "in"
        and not payload["is_internal_note"]
        and _proactive_hours(event.brand_id, "check_in_hours") > 0
    )


# A conversation's first message comes as ``conversation.created`` (same payload).
@on([CONVERSATION_CREATED, MESSAGE_CREATED], when=customer_wrote, in_worker=True, retries=3)
def check_in_later(event: Event) -> None:
    """A customer's message: a check-in after the brand's delay if it is still the last word."""
    hours = _proactive_hours(event.brand_id, "check_in_hours")
    if hours:
        with transaction.atomic():
            schedule_check_in(event.payload["conversation_id"], event.payload["id"], hours)


def became_pending(event: Event) -> bool:
    return (
        event.payload["status"] == "pending"
        and _proactive_hours(event.brand_id, "reminder_hours") > 0
    )


@on(CONVERSATION_UPDATED, when=became_pending, in_worker=True, retries=3)
def remind_pending_later(event: Event) -> None:
    """A conversation waiting on the customer: a reminder after the brand's delay."""
    hours = _proactive_hours(event.brand_id, "reminder_hours")
    if hours:
        with transaction.atomic():
            schedule_reminder(event.payload["id"], event.pk, hours)
