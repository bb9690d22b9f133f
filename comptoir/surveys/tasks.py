"""Timed survey work: sending after the brand's delay, the one reminder; and the proactive
follow-up's check-ins, pending reminders and closings (``surveys.proactive``)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from comptoir.conversations.models import Status
from comptoir.customers.consents import allows
from comptoir.customers.models import ConsentPurpose
from comptoir.surveys.models import Survey, SurveySource, SurveyStatus
from comptoir.surveys.proactive import check_in, pending_close, pending_reminder
from comptoir.surveys.sending import LINK_CHANNELS, send_on_channel, settings_of
from comptoir.tasks import task


def deliver(survey_id: int) -> Survey | None:
    """Send a scheduled survey (run by ``tasks.deliver_survey``); safe to run twice.

    A conversation reopened meanwhile is not finished: its survey is cancelled; so
    is the survey of a customer who withdrew their consent to surveys meanwhile.
    """
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update(of=("self",))
            .select_related("conversation__customer", "brand")
            .filter(pk=survey_id)
            .first()
        )
        if survey is None or survey.status != SurveyStatus.SCHEDULED:
            return survey
        options = settings_of(survey.brand_id)
        if (
            survey.source == SurveySource.AUTOMATIC
            and survey.conversation.status != Status.RESOLVED
        ) or not allows(survey.customer_id, ConsentPurpose.SURVEYS):
            # Reopened meanwhile, or the customer withdrew their consent to surveys.
            survey.status = SurveyStatus.CANCELLED
            survey.save(update_fields=["status"])
            return survey
        survey.status = SurveyStatus.SENT
        survey.sent_at = timezone.now()
        survey.save(update_fields=["status", "sent_at"])
        send_on_channel(survey, options, reminder=False)
        if options is not None and options.reminder_hours and survey.channel in LINK_CHANNELS:
            remind_survey.enqueue(
                survey_id=survey.pk, run_after=timedelta(hours=options.reminder_hours)
            )
    return survey


def remind(survey_id: int) -> bool:
    """The survey's one reminder, if still unanswered; whether it was sent."""
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update(of=("self",))
            .select_related("conversation__customer", "brand")
            .filter(pk=survey_id)
            .first()
        )
        if survey is None or survey.status != SurveyStatus.SENT or survey.reminded_at:
            return False
        if not allows(survey.customer_id, ConsentPurpose.SURVEYS):
            return False
        survey.reminded_at = timezone.now()
        survey.save(update_fields=["reminded_at"])
        send_on_channel(survey, settings_of(survey.brand_id), reminder=True)
    return True


deliver_survey = task(name="comptoir.surveys.tasks.deliver_survey", retries=3, retry_wait=60)(
    deliver
)
remind_survey = task(name="comptoir.surveys.tasks.remind_survey", retries=3, retry_wait=60)(remind)


def _pending_reminder(conversation_id: int, event_id: int) -> None:
    close_hours = pending_reminder(conversation_id, event_id)
    if close_hours:
        pending_close_task.enqueue(
            conversation_id=conversation_id,
            event_id=event_id,
            run_after=timedelta(hours=close_hours),
        )


# Proactive follow-up (``surveys.proactive``): each step re-checks the state when it runs.
check_in_task = task(name="comptoir.surveys.tasks.check_in", retries=3, retry_wait=60)(check_in)
pending_reminder_task = task(
    name="comptoir.surveys.tasks.pending_reminder", retries=3, retry_wait=60
)(_pending_reminder)
pending_close_task = task(name="comptoir.surveys.tasks.pending_close", retries=3, retry_wait=60)(
    pending_close
)


def schedule_check_in(conversation_id: int, message_id: int, hours: int) -> None:
    check_in_task.enqueue(
        conversation_id=conversation_id, message_id=message_id, run_after=timedelta(hours=hours)
    )


def schedule_reminder(conversation_id: int, event_id: int, hours: int) -> None:
    pending_reminder_task.enqueue(
        conversation_id=conversation_id, event_id=event_id, run_after=timedelta(hours=hours)
    )
