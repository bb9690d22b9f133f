"""Sending a survey: its link, its message on the channel, its ``survey.sent`` event.

Shared by the actions (a survey sent by hand) and the timed tasks (after the
brand's delay, the reminder).
"""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.actions import send_automatic_message
from comptoir.conversations.models import Channel, Contact, Direction, Status
from comptoir.customers.consents import allows
from comptoir.customers.models import ConsentPurpose
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.surveys import texts
from comptoir.surveys.models import Survey, SurveySettings, SurveyStatus
from comptoir.surveys.tokens import make_token

# Channels a survey is written on (the link); the widget asks inline; the phone's
# telephony asks by itself and posts the answer (``api``).
LINK_CHANNELS = (Channel.EMAIL, Channel.WHATSAPP, Channel.MESSENGER)


def settings_of(brand_id: int) -> SurveySettings | None:
    return SurveySettings.objects.filter(brand_id=brand_id).first()


def survey_link(survey: Survey, options: SurveySettings | None) -> str:
    valid_days = options.link_days if options is not None else 28
    token = make_token(survey.pk, survey.nonce, valid_days)
    return settings.PUBLIC_URL + reverse("surveys:answer", args=[token])


def widget_token(survey: Survey, options: SurveySettings | None) -> str:
    return make_token(survey.pk, survey.nonce, options.link_days if options is not None else 28)


def announce_sent(survey: Survey, options: SurveySettings | None, *, reminder: bool) -> None:
    customer_payload = None
    if survey.channel == Channel.WEBCHAT:
        customer_payload = widget_question(survey, options)
    append_event(
        survey.brand_id,
        kinds.SURVEY_SENT,
        {
            "survey_id": survey.pk,
            "conversation_id": survey.conversation_id,
            "contact_id": survey.contact_id,
            "customer_id": survey.customer_id,
            "channel": survey.channel,
            "source": survey.source,
            "reminder": reminder,
        },
        actor=SYSTEM,
        conversation=survey.conversation,
        customer=survey.customer,
        customer_payload=customer_payload,
    )


def send_on_channel(survey: Survey, options: SurveySettings | None, *, reminder: bool) -> None:
    """Write the survey on its channel (a message with the link) and tell who may see it."""
    if survey.channel in LINK_CHANNELS:
        text = texts.message_text(survey, options, survey_link(survey, options), reminder=reminder)
        message = send_automatic_message(survey.conversation, text, channel=survey.channel)
        # The message opened an outbound contact on a finished conversation: the
        # survey is not a new contact with the customer, so it ends at once.
        Contact.objects.filter(
            pk=message.contact_id, direction=Direction.OUTBOUND, ended_at__isnull=True
        ).exclude(conversation__status__in=[Status.OPEN, Status.PENDING]).update(
            ended_at=message.created_at
        )
    announce_sent(survey, options, reminder=reminder)


def widget_question(survey: Survey, options: SurveySettings | None) -> dict:
    """What the chat widget needs to ask inline: the words and the signed answer token."""
    return {
        "survey_id": survey.pk,
        "conversation_id": survey.conversation_id,
        "token": widget_token(survey, options),
        "question": texts.question(survey, options),
        "effort_question": texts.effort_question(survey, options),
    }


def open_widget_surveys(customer_id: int | None) -> list[dict]:
    """The customer's chat surveys still waiting for an answer (a widget opened again)."""
    if customer_id is None or not allows(customer_id, ConsentPurpose.SURVEYS):
        return []
    surveys = list(
        Survey.objects.select_related("brand")
        .filter(customer_id=customer_id, channel=Channel.WEBCHAT, status=SurveyStatus.SENT)
        .order_by("-pk")[:3]
    )
    if not surveys:
        return []
    options = settings_of(surveys[0].brand_id)
    # Asked again only while its link would still be valid: a fresh token must not
    # stretch a survey beyond the brand's ``link_days``.
    valid_days = options.link_days if options is not None else 28
    since = timezone.now() - timedelta(days=valid_days)
    return [
        widget_question(survey, options)
        for survey in reversed(surveys)
        if survey.sent_at is not None and survey.sent_at >= since
    ]
