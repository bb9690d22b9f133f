"""The messages an appointment sends by itself: confirmation, change notice, reminders.

Queued by ``appointments.actions`` in the booking's transaction; a reminder runs
at its time. Each run checks the booking still stands as it was when the task
was queued (same slot, still booked): a rescheduled booking's old reminders do
nothing, and running a task twice sends at most what the state allows (the
message itself is the record: see ``_already_sent``).
"""

from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext

from comptoir.appointments.links import manage_url
from comptoir.appointments.models import Appointment, AppointmentStatus
from comptoir.appointments.texts import customer_message, observation_notice
from comptoir.conversations.actions import (
    add_note,
    reopen_conversation,
    reply_channel,
    send_automatic_message,
)
from comptoir.conversations.models import AuthorKind, Message, Status
from comptoir.conversations.state import ConversationStateError
from comptoir.routing.assignment import assign_conversation
from comptoir.tasks import task


def _already_sent(appointment: Appointment, text: str) -> bool:
    return Message.objects.filter(conversation=appointment.conversation, text=text).exists()


def _loaded(appointment_id: int) -> Appointment | None:
    return (
        Appointment.objects.select_related(
            "brand", "location__calendar", "service", "customer", "conversation", "served_by"
        )
        .filter(pk=appointment_id)
        .first()
    )


def _language(appointment: Appointment) -> str:
    customer = appointment.customer
    return (customer.language if customer else "") or appointment.brand.default_language


def _send(appointment: Appointment, text: str) -> None:
    """``text`` on the customer's reply channel, once (the message is the record)."""
    if _already_sent(appointment, text):
        return
    try:
        channel = reply_channel(appointment.conversation)
    except ConversationStateError:
        return  # no written channel reaches them: the booking's note is in their history
    send_automatic_message(appointment.conversation, text, channel=channel)


@task(retries=3, retry_wait=60)
def send_appointment_message(appointment_id: int, purpose: str, starts_at: str) -> None:
    """Send ``purpose``'s message on the customer's channel, if the booking still stands."""
    appointment = _loaded(appointment_id)
    if appointment is None or appointment.conversation is None:
        return
    if appointment.status != AppointmentStatus.BOOKED:
        return
    if appointment.starts_at != datetime.fromisoformat(starts_at):
        return  # rescheduled since: the new slot has its own messages
    with translation.override(_language(appointment)):
        _send(appointment, customer_message(appointment, purpose, manage_url(appointment)))


@task(retries=3, retry_wait=60)
def send_observation_notice(appointment_id: int, follow_up_at: str) -> None:
    """Tell the customer their device is under observation and when they will hear back."""
    appointment = _loaded(appointment_id)
    if appointment is None or appointment.conversation is None:
        return
    with translation.override(_language(appointment)):
        _send(appointment, observation_notice(appointment, datetime.fromisoformat(follow_up_at)))


@task(retries=3, retry_wait=60)
def follow_up_observation(appointment_id: int) -> None:
    """The day after: the conversation is open again and in the hands of who served them.

    Safe to run twice: reopening and assigning do nothing the second time, and
    the note is written once.
    """
    appointment = _loaded(appointment_id)
    if appointment is None or appointment.conversation is None:
        return
    conversation = appointment.conversation
    if conversation.status == Status.RESOLVED:
        conversation = reopen_conversation(None, conversation)
    agent = appointment.served_by
    if agent is not None and agent.is_active:
        assign_conversation(None, conversation, agent)
    with translation.override(appointment.brand.default_language):
        note = gettext(
            "Follow-up: the device of appointment %(reference)s was kept under observation. "
            "Contact the customer."
        ) % {"reference": appointment.reference}
    if not Message.objects.filter(conversation=conversation, text=note).exists():
        add_note(None, conversation, note, author_kind=AuthorKind.SYSTEM)
