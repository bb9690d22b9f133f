"""What changes surveys: planning one after a contact, sending it, its answer, follow-ups.

Each action runs in one transaction and appends its event (``survey.sent``,
``survey.answered``, ``survey.follow_up``); the listeners that call the first
ones hang on the end of contacts (``surveys.listeners``).
"""

import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from comptoir.conversations.actions import can_reply_on
from comptoir.conversations.models import (
    AuthorKind,
    Channel,
    Contact,
    Conversation,
    Message,
)
from comptoir.customers.consents import allows
from comptoir.customers.models import ConsentPurpose
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER, SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.events.models import Event
from comptoir.surveys import texts
from comptoir.surveys.models import (
    FollowUp,
    ProactiveSettings,
    Survey,
    SurveySettings,
    SurveySource,
    SurveyStatus,
)
from comptoir.surveys.sending import LINK_CHANNELS, announce_sent, settings_of
from comptoir.surveys.tasks import deliver, deliver_survey
from comptoir.tenancy.models import Membership

SURVEYED_CHANNELS = (Channel.WEBCHAT, *LINK_CHANNELS, Channel.PHONE)
LOW_CSAT = 2
# Words that make a comment negative whatever the score (a 4 with "never again" is read).
NEGATIVE_WORDS = re.compile(
    r"\b(nul|nulle|mauvais|mauvaise|déçu|déçue|décevant|inadmissible|inacceptable|honte|"
    r"jamais plus|plus jamais|scandale|horrible|bad|terrible|awful|disappointed|"
    r"disappointing|unacceptable|worst|useless|never again|rude|impoli)\b",
    re.IGNORECASE,
)


class SurveyError(ValueError):
    """A survey action that does not apply; ``code`` is for the page or API that refuses it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _handling_agent_id(contact: Contact, conversation: Conversation) -> int | None:
    """The agent who last wrote on the contact; else who holds the conversation."""
    author_id = (
        Message.objects.filter(contact=contact, author_kind=AuthorKind.AGENT, author__isnull=False)
        .order_by("-pk")
        .values_list("author_id", flat=True)
        .first()
    )
    return author_id or conversation.assignee_id


def _intent_of(conversation: Conversation) -> str:
    """The last intent the assistant recognised in the conversation (from the event log)."""
    payloads = (
        Event.objects.filter(
            conversation=conversation,
            kind__in=[kind.name for kind in kinds.ASSISTANT_OUTCOMES.values()],
        )
        .order_by("-pk")
        .values_list("payload", flat=True)[:20]
    )
    for payload in payloads:
        if payload.get("intent"):
            return str(payload["intent"])[:120]
    return ""


def _recently_surveyed(customer_id: int, quiet_days: int) -> bool:
    if quiet_days <= 0:
        return False
    since = timezone.now() - timedelta(days=quiet_days)
    # A survey waiting for its delay counts too: it is about to ask.
    return Survey.objects.filter(
        Q(status=SurveyStatus.SCHEDULED)
        | Q(status__in=[SurveyStatus.SENT, SurveyStatus.ANSWERED], sent_at__gte=since),
        customer_id=customer_id,
    ).exists()


def _new_survey(
    contact: Contact, *, channel: str, source: str, agent_id: int | None, status: str
) -> Survey | None:
    """The contact's survey, created now; None when the contact already has one."""
    conversation = contact.conversation
    customer = conversation.customer
    now = timezone.now()
    try:
        with transaction.atomic():
            return Survey.objects.create(
                brand_id=contact.brand_id,
                conversation=conversation,
                contact=contact,
                customer=customer,
                channel=channel,
                agent_id=agent_id or _handling_agent_id(contact, conversation),
                team_id=conversation.team_id,
                intent=_intent_of(conversation),
                source=source,
                status=status,
                language=texts.survey_language(
                    customer.language, conversation.brand.default_language
                ),
                created_at=now,
                sent_at=now if status == SurveyStatus.SENT else None,
            )
    except IntegrityError:
        return None


def plan_after_contact(
    contact_id: int, *, agent_id: int | None = None, auto_closed: bool = False
) -> Survey | None:
    """Plan the survey of a contact that ended, if the brand asks after it; None if not.

    Not asked: channel off, closed by Comptoir (unless the brand wants it), the
    customer asked within the quiet period, or the contact already has one. A
    call's survey is asked by the telephony at once (status sent); the others
    are sent by ``tasks.deliver_survey`` after the brand's delay.
    """
    with transaction.atomic():
        contact = (
            Contact.objects.select_related("conversation__customer", "conversation__brand")
            .filter(pk=contact_id)
            .first()
        )
        if contact is None or contact.channel not in SURVEYED_CHANNELS:
            return None
        options = settings_of(contact.brand_id)
        if options is None or contact.channel not in options.channels:
            return None
        if auto_closed and not options.after_auto_close:
            return None
        if _recently_surveyed(contact.conversation.customer_id, options.quiet_days):
            return None
        if not allows(contact.conversation.customer_id, ConsentPurpose.SURVEYS):
            return None
        if contact.channel == Channel.PHONE:
            survey = _new_survey(
                contact,
                channel=Channel.PHONE,
                source=SurveySource.PHONE,
                agent_id=agent_id,
                status=SurveyStatus.SENT,
            )
            if survey is not None:
                announce_sent(survey, options, reminder=False)
            return survey
        survey = _new_survey(
            contact,
            channel=contact.channel,
            source=SurveySource.AUTOMATIC,
            agent_id=agent_id,
            status=SurveyStatus.SCHEDULED,
        )
        if survey is not None:
            # No delay: due at once. (A delay of 0 is a time after PostgreSQL's now(),
            # which stays the transaction's start time while the transaction lasts.)
            delay = timedelta(minutes=options.delay_minutes) if options.delay_minutes else None
            deliver_survey.enqueue(survey_id=survey.pk, run_after=delay)
        return survey


def send_by_hand(actor: Membership, conversation: Conversation, *, source: str) -> Survey:
    """An agent (or the API) asks now about the conversation's last contact, quiet period or not."""
    with transaction.atomic():
        contact = (
            Contact.objects.select_related("conversation__customer", "conversation__brand")
            .filter(conversation=conversation)
            .order_by("-started_at", "-pk")
            .first()
        )
        if contact is None:
            raise SurveyError("no_contact", "This conversation has no contact to ask about.")
        if not allows(contact.conversation.customer_id, ConsentPurpose.SURVEYS):
            raise SurveyError("no_consent", "This customer withdrew their consent to surveys.")
        channel = contact.channel
        if channel not in (Channel.WEBCHAT, *LINK_CHANNELS) or not (
            channel == Channel.WEBCHAT or can_reply_on(channel)
        ):
            raise SurveyError(
                "unreachable", "A survey cannot be sent on this conversation's channel."
            )
        survey = _new_survey(
            contact, channel=channel, source=source, agent_id=None, status=SurveyStatus.SCHEDULED
        )
        if survey is None:
            raise SurveyError("already_sent", "This contact already has its survey.")
    return deliver(survey.pk)


def _validate(csat: int, ces: int | None, comment: str) -> None:
    if not isinstance(csat, int) or not 1 <= csat <= 5:
        raise SurveyError("bad_csat", "Satisfaction is a whole number from 1 to 5.")
    if ces is not None and (not isinstance(ces, int) or not 1 <= ces <= 7):
        raise SurveyError("bad_ces", "Effort is a whole number from 1 to 7.")
    if len(comment) > 2000:
        raise SurveyError("comment_too_long", "The comment is longer than 2000 characters.")


def follow_up_reason(csat: int, comment: str) -> str:
    """Why an answer needs a supervisor ("" when it does not)."""
    if csat <= LOW_CSAT:
        return f"low satisfaction ({csat}/5)"
    if NEGATIVE_WORDS.search(comment):
        return "negative comment"
    return ""


def answer(
    survey: Survey,
    csat: int,
    ces: int | None = None,
    comment: str = "",
    *,
    nonce: str | None = None,
) -> Survey:
    """Record the customer's answer, once; a low score opens a follow-up.

    ``nonce``: the one a signed link carried (a re-issued survey refuses older links).
    """
    comment = comment.strip()
    _validate(csat, ces, comment)
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update(of=("self",))
            .select_related("conversation__customer")
            .get(pk=survey.pk)
        )
        if nonce is not None and nonce != survey.nonce:
            raise SurveyError("used", "This link is no longer valid.")
        if survey.status == SurveyStatus.ANSWERED:
            raise SurveyError("used", "This survey has already been answered.")
        if survey.status != SurveyStatus.SENT:
            raise SurveyError("not_sent", "This survey is not open for answers.")
        now = timezone.now()
        survey.status = SurveyStatus.ANSWERED
        survey.answered_at = now
        survey.csat, survey.ces, survey.comment = csat, ces, comment
        survey.save(update_fields=["status", "answered_at", "csat", "ces", "comment"])
        append_event(
            survey.brand_id,
            kinds.SURVEY_ANSWERED,
            {
                "survey_id": survey.pk,
                "conversation_id": survey.conversation_id,
                "contact_id": survey.contact_id,
                "customer_id": survey.customer_id,
                "channel": survey.channel,
                "agent_id": survey.agent_id,
                "team_id": survey.team_id,
                "intent": survey.intent,
                "csat": csat,
                "ces": ces,
                "comment": comment,
                "answered_at": now.isoformat(),
            },
            actor=CUSTOMER,
            conversation=survey.conversation,
            customer=survey.conversation.customer,
            customer_payload={"survey_id": survey.pk},
        )
        reason = follow_up_reason(csat, comment)
        if reason:
            follow_up = FollowUp.objects.create(
                brand_id=survey.brand_id, survey=survey, reason=reason, created_at=now
            )
            _follow_up_event(follow_up, actor=SYSTEM)
    return survey


def answer_after_call(contact: Contact, csat: int, ces: int | None, comment: str) -> Survey:
    """The telephony's post-call survey (IVR): the call's survey, opened now if it had none."""
    _validate(csat, ces, comment.strip())
    if contact.channel != Channel.PHONE:
        raise SurveyError("not_a_call", "This contact is not a phone call.")
    with transaction.atomic():
        survey = Survey.objects.filter(contact=contact).first()
        if survey is None:
            contact = Contact.objects.select_related(
                "conversation__customer", "conversation__brand"
            ).get(pk=contact.pk)
            survey = _new_survey(
                contact,
                channel=contact.channel,
                source=SurveySource.PHONE,
                agent_id=None,
                status=SurveyStatus.SENT,
            )
            if survey is None:  # opened meanwhile by the call's end
                survey = Survey.objects.get(contact=contact)
            else:
                announce_sent(survey, settings_of(survey.brand_id), reminder=False)
        return answer(survey, csat, ces, comment)


def _follow_up_event(follow_up: FollowUp, *, actor: Actor) -> None:
    append_event(
        follow_up.brand_id,
        kinds.SURVEY_FOLLOW_UP,
        {
            "follow_up_id": follow_up.pk,
            "survey_id": follow_up.survey_id,
            "conversation_id": follow_up.survey.conversation_id,
            "reason": follow_up.reason,
            "status": "done" if follow_up.done_at else "open",
            "done_by_id": follow_up.done_by_id,
        },
        actor=actor,
        conversation=follow_up.survey.conversation,
    )


def close_follow_up(actor: Membership, follow_up: FollowUp) -> FollowUp:
    """A supervisor dealt with the unhappy customer."""
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("survey__conversation")
            .get(pk=follow_up.pk)
        )
        if follow_up.done_at is not None:
            raise SurveyError("done", "This follow-up is already done.")
        follow_up.done_at = timezone.now()
        follow_up.done_by = actor
        follow_up.save(update_fields=["done_at", "done_by"])
        _follow_up_event(follow_up, actor=Actor.agent(actor))
    return follow_up


def save_settings(actor: Membership, options: SurveySettings) -> SurveySettings:
    """An administrator's choice of survey settings (the form validated them)."""
    with transaction.atomic():
        options.brand_id = actor.brand_id
        options.save()
    return options


def save_proactive_settings(actor: Membership, options: ProactiveSettings) -> ProactiveSettings:
    """An administrator's choice of check-ins, reminders and closings (the form validated them).

    Applies to what happens next: steps already timed re-read the settings when they run.
    """
    with transaction.atomic():
        options.brand_id = actor.brand_id
        options.save()
    return options
