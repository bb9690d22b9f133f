"""The messages an appointment sends by itself: confirmation, change notice, reminders.

Queued by ``appointments.actions`` in the booking's transaction; a reminder runs
at its time. Each run checks the booking still stands as it was when the task
was queued (same slot, still booked): a rescheduled booking's old reminders do
nothing, and running a task twice sends at most what the state allows (the
message itself is the record: see ``_already_sent``).
"""

from datetime import datetime

from django.utils import translation

from comptoir.appointments.links import manage_url
from comptoir.appointments.models import Appointment, AppointmentStatus
from comptoir.appointments.texts import customer_message
from comptoir.conversations.actions import reply_channel, send_automatic_message
from comptoir.conversations.models import Message
from comptoir.conversations.state import ConversationStateError
from comptoir.tasks import task


def _already_sent(appointment: Appointment, text: str) -> bool:
    return Message.objects.filter(conversation=appointment.conversation, text=text).exists()


@task(retries=3, retry_wait=60)
def send_appointment_message(appointment_id: int, purpose: str, starts_at: str) -> None:
    """Send ``purpose``'s message on the customer's channel, if the booking still stands."""
    appointment = (
        Appointment.objects.select_related(
            "brand", "location__calendar", "service", "customer", "conversation"
        )
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or appointment.conversation is None:
        return
    if appointment.status != AppointmentStatus.BOOKED:
        return
    if appointment.starts_at != datetime.fromisoformat(starts_at):
        return  # rescheduled since: the new slot has its own messages
    customer = appointment.customer
    language = (customer.language if customer else "") or appointment.brand.default_language
    with translation.override(language):
        text = customer_message(appointment, purpose, manage_url(appointment))
    if _already_sent(appointment, text):
        return
    try:
        channel = reply_channel(appointment.conversation)
    except ConversationStateError:
        return  # no written channel reaches them: the booking's note is in their history
    send_automatic_message(appointment.conversation, text, channel=channel)
