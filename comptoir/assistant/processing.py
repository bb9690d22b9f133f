"""What the assistant does with one customer message: answer at once, or hand off warmly.

``process_job`` analyses the message (language, sentiment, intent) and
decides outside any transaction, because classifying and calling the brand's
endpoint take time; it then applies the decision in one transaction that
re-checks, under the conversation's lock, that no person took over meanwhile.
"""

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from comptoir.appointments import offers
from comptoir.appointments.actions import BookingError
from comptoir.assistant import engine
from comptoir.assistant.endpoints import EndpointError, call_endpoint, order_path
from comptoir.assistant.handoff_summary import summary_text
from comptoir.assistant.intent_actions import BOOK_APPOINTMENT, HANDOFF_ACTION, ORDER_STATUS
from comptoir.assistant.models import (
    AssistantJob,
    AssistantSettings,
    ConversationState,
    Intent,
    JobStatus,
    Outcome,
)
from comptoir.assistant.retrieval import best_passage
from comptoir.assistant.rules import (
    asks_for_human,
    customer_date,
    extract_order_number,
    is_greeting,
    rejects_answer,
    render_template,
)
from comptoir.assistant.scope import ANSWERED_CHANNELS, LANGUAGES
from comptoir.conversations.actions import (
    add_note,
    can_reply_on,
    raise_priority,
    send_automatic_message,
)
from comptoir.conversations.models import (
    AuthorKind,
    Conversation,
    Direction,
    Message,
    Priority,
    Status,
)
from comptoir.events.actors import BOT
from comptoir.events.kinds import APPOINTMENT_SLOTS_OFFERED, ASSISTANT_OUTCOMES
from comptoir.events.log import append_event
from comptoir.routing.assignment import Routing, handoff_team, route_to_person
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)


@dataclass
class Analysis:
    language: str
    sentiment: float
    angry: bool
    intent: Intent | None
    confidence: float
    low_confidence: bool


@dataclass
class Decision:
    """What to do; ``history`` entries are added to what the assistant said and tried."""

    outcome: str
    reason: str = ""
    text: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    pending_action: str = ""
    pending_intent: str = ""
    failures: int = 0
    # An offered slot the customer picked: booked in ``_apply``'s transaction.
    book_at: str = ""


def process_job(job_id: int) -> AssistantJob:
    """Handle one claimed job to the end; the job records the outcome."""
    job = AssistantJob.objects.select_related("message", "conversation__customer", "brand").get(
        pk=job_id
    )
    message, conversation = job.message, job.conversation
    settings = AssistantSettings.objects.filter(brand_id=job.brand_id).first()
    if settings is None or not settings.enabled:
        return _finish(job, Outcome.SKIPPED, "disabled")
    if (
        message.author_kind != AuthorKind.CUSTOMER
        or message.direction != Direction.INBOUND
        or message.is_internal_note
    ):
        return _finish(job, Outcome.SKIPPED, "not_customer")
    state = ConversationState.objects.filter(conversation=conversation).first() or (
        ConversationState(brand_id=job.brand_id, conversation=conversation)
    )
    if message.channel not in ANSWERED_CHANNELS or message.channel not in settings.answer_channels:
        # A call transcript (or a channel the brand keeps for people): classified only.
        analysis = analyse(settings, message, conversation, state)
        return _finish(job, Outcome.CLASSIFIED, "not_answered_channel", analysis)
    if human_in_charge(conversation):
        return _finish(job, Outcome.SKIPPED, "human_in_charge")
    if state.handed_off_at is not None:
        return _finish(job, Outcome.SKIPPED, "handed_off")
    analysis = analyse(settings, message, conversation, state)
    with translation.override(analysis.language):
        decision = decide(settings, message, conversation, state, analysis)
        return _apply(job, analysis, decision)


def human_in_charge(conversation: Conversation) -> bool:
    """A person took the conversation (assigned, or an agent replied): the assistant stays quiet."""
    if conversation.assignee_id is not None or conversation.status == Status.RESOLVED:
        return True
    return Message.objects.filter(
        conversation=conversation, author_kind=AuthorKind.AGENT, is_internal_note=False
    ).exists()


def analyse(
    settings: AssistantSettings,
    message: Message,
    conversation: Conversation,
    state: ConversationState,
) -> Analysis:
    from comptoir.assistant.nlu.language import detect_language
    from comptoir.assistant.nlu.sentiment import is_angry, sentiment

    text = message.text
    previous = state.details.get("language")
    language = detect_language(text) if text.strip() else ""
    if previous and (language not in LANGUAGES or len(text.split()) < 3):
        language = previous  # "MD-10482" says nothing about the language
    if language not in LANGUAGES:
        customer_language = (conversation.customer.language or "")[:2]
        brand_language = (conversation.brand.default_language or "fr")[:2]
        language = next(
            (lang for lang in (customer_language, brand_language) if lang in LANGUAGES), "fr"
        )
    score = float(sentiment(text, language))
    angry = bool(is_angry(text, language))
    intent, confidence, low = None, 0.0, True
    classifier = engine.classifier_for(settings.brand_id)
    if classifier is not None and text.strip():
        prediction = classifier.predict(text)
        confidence = float(prediction.confidence)
        if prediction.intent:
            intent = Intent.objects.filter(
                brand_id=settings.brand_id, name=prediction.intent
            ).first()
        low = (
            intent is None or prediction.out_of_scope or confidence < settings.confidence_threshold
        )
    return Analysis(language, score, angry, intent, confidence, low)


def decide(
    settings: AssistantSettings,
    message: Message,
    conversation: Conversation,
    state: ConversationState,
    analysis: Analysis,
) -> Decision:
    text = message.text
    intent = analysis.intent if not analysis.low_confidence else None
    number = extract_order_number(text)
    details: dict[str, Any] = {"language": analysis.language}
    if number:
        details["order_number"] = number
    if intent is not None:
        details["intent"] = intent.name

    def handoff(reason: str, **extra: Any) -> Decision:
        return Decision(Outcome.HANDOFF, reason, details=details, **extra)

    if asks_for_human(text) or (intent is not None and intent.action == HANDOFF_ACTION):
        return handoff("asked_for_human")
    if rejects_answer(text) and state.history:
        failures = state.failures + 1
        tried = {"kind": "rejected", "text": text[:300]}
        if failures >= 2:
            return handoff("failed_twice", failures=failures, history=[tried])
        rephrase = _(
            "Sorry, I did not understand your request. Could you rephrase it? "
            'You can also type "advisor" to talk to a person.'
        )
        return Decision(
            Outcome.ANSWERED,
            "rephrase",
            text=rephrase,
            failures=failures,
            details=details,
            history=[tried, {"kind": "rephrase", "text": rephrase}],
        )
    if conversation.customer.is_vip:
        return handoff("vip")
    if analysis.angry:
        return handoff("negative_sentiment")
    if state.pending_action == ORDER_STATUS and number:
        pending = Intent.objects.filter(
            brand_id=settings.brand_id, name=state.pending_intent
        ).first()
        return _order_status(settings, conversation, pending, number, details)
    if state.pending_action == BOOK_APPOINTMENT:
        starts_at = offers.chosen_slot(state.details.get("offer", {}), text)
        if starts_at is not None:
            return Decision(
                Outcome.ANSWERED,
                "booked",
                details=details,
                book_at=starts_at.isoformat(),
                history=[
                    {
                        "kind": "action",
                        "action": BOOK_APPOINTMENT,
                        "starts_at": starts_at.isoformat(),
                    }
                ],
            )
    if intent is None and is_greeting(text):
        welcome = _(
            "Hello! I am the assistant. How can I help you? "
            'You can type "advisor" at any time to talk to a person.'
        )
        return Decision(
            Outcome.ANSWERED,
            "greeting",
            text=welcome,
            details=details,
            history=[{"kind": "answer", "text": welcome}],
        )
    if intent is None:
        return handoff("low_confidence")
    if not intent.automatable:
        return handoff("not_automatable")
    if intent.action == BOOK_APPOINTMENT:
        return _offer_slots(conversation, intent, details)
    if intent.action == ORDER_STATUS:
        if number:
            return _order_status(settings, conversation, intent, number, details)
        ask = _("Could you give me your order number? It looks like MD-10482.")
        return Decision(
            Outcome.ANSWERED,
            "asked_order_number",
            text=ask,
            details=details,
            pending_action=ORDER_STATUS,
            pending_intent=intent.name,
            history=[{"kind": "asked", "text": ask}],
        )
    template = intent.answer(analysis.language)
    if template.strip():
        answer = _fill(template, conversation, details)
        return Decision(
            Outcome.ANSWERED,
            "template",
            text=answer,
            details=details,
            history=[{"kind": "answer", "text": answer}],
        )
    passage = best_passage(settings.brand_id, analysis.language, text)
    if passage is not None:
        return Decision(
            Outcome.ANSWERED,
            "knowledge_base",
            text=passage,
            details=details,
            history=[{"kind": "article", "text": passage}],
        )
    return handoff("no_answer")


def _order_status(
    settings: AssistantSettings,
    conversation: Conversation,
    intent: Intent | None,
    number: str,
    details: dict[str, Any],
) -> Decision:
    """Call the brand's order endpoint; its failure hands off (with what was tried)."""
    tried = {"kind": "action", "action": ORDER_STATUS, "order_number": number}
    try:
        body = call_endpoint(settings, order_path(number))
    except EndpointError as error:
        logger.warning("order status for brand %s failed: %s", settings.brand_id, error.reason)
        tried["error"] = error.reason
        return Decision(Outcome.HANDOFF, "action_failed", details=details, history=[tried])
    values = {}
    if isinstance(body, dict):
        language = details.get("language", "fr")
        for key, value in body.items():
            if isinstance(value, str | int | float):
                values[key] = customer_date(str(value), language)
        for key, value in list(values.items()):
            if key.endswith(f"_{language}"):
                values[key.removesuffix(f"_{language}")] = value
    template = intent.answer(details.get("language", "fr")) if intent is not None else ""
    if not template.strip():
        template = _("Order {order_number}: {status}.")
    answer = _fill(template, conversation, {**details, **values, "order_number": number})
    tried["result"] = values.get("status", "")
    return Decision(
        Outcome.ANSWERED,
        "action",
        text=answer,
        details=details,
        history=[tried, {"kind": "answer", "text": answer}],
    )


def _offer_slots(conversation: Conversation, intent: Intent, details: dict[str, Any]) -> Decision:
    """The next free slots, numbered, to book by answering; none: the usual handoff.

    A customer who already has a booking ahead is pointed to it (its signed link)
    rather than offered a second one.
    """
    existing = offers.upcoming_booking(conversation.customer)
    if existing is not None:
        answer = offers.existing_booking_text(existing)
        return Decision(
            Outcome.ANSWERED,
            "existing_booking",
            text=answer,
            details=details,
            history=[{"kind": "answer", "text": answer}],
        )
    offer = offers.next_slots(conversation.brand_id)
    if offer is None:
        return Decision(Outcome.HANDOFF, "no_slots", details=details)
    answer = offers.offer_text(offer)
    return Decision(
        Outcome.ANSWERED,
        "slots_offered",
        text=answer,
        details={**details, "offer": offer.as_details()},
        pending_action=BOOK_APPOINTMENT,
        pending_intent=intent.name,
        history=[{"kind": "offer", "text": answer}],
    )


def _book_offered(conversation: Conversation, state: ConversationState, decision: Decision) -> None:
    """Book the slot the customer picked (in ``_apply``'s transaction); taken: offer anew.

    Leaves ``decision`` an answer (booked, or the new offer) or a handoff (no slot left).
    """
    offer = state.details.get("offer", {})
    try:
        appointment = offers.book_offered(
            conversation.customer, offer, parse_datetime(decision.book_at)
        )
    except BookingError:
        fresh = offers.next_slots(conversation.brand_id)
        if fresh is None:
            decision.outcome, decision.reason = Outcome.HANDOFF, "no_slots"
            return
        decision.reason = "slot_taken"
        decision.text = _("Sorry, that slot was just taken.") + "\n" + offers.offer_text(fresh)
        decision.details = {**decision.details, "offer": fresh.as_details()}
        decision.pending_action = BOOK_APPOINTMENT
        decision.pending_intent = state.pending_intent
        decision.history = [*decision.history, {"kind": "offer", "text": decision.text}]
        return
    decision.text = offers.booked_text(appointment)
    decision.details = {**decision.details, "offer": {}, "appointment": appointment.reference}
    decision.history = [*decision.history, {"kind": "answer", "text": decision.text}]


def _fill(template: str, conversation: Conversation, values: dict[str, Any]) -> str:
    name = (conversation.customer.display_name or "").split()
    text = render_template(
        template,
        {**{k: str(v) for k, v in values.items()}, "customer_name": name[0] if name else ""},
    )
    return re.sub(r"[ \t]+([,.!?])", r"\1", text)


def _apply(job: AssistantJob, analysis: Analysis, decision: Decision) -> AssistantJob:
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",), no_key=True)
            .select_related("customer")
            .get(pk=job.conversation_id)
        )
        if human_in_charge(conversation):
            return _finish(job, Outcome.SKIPPED, "human_in_charge", analysis)
        state, _ = ConversationState.objects.select_for_update().get_or_create(
            conversation=conversation, defaults={"brand_id": job.brand_id}
        )
        if state.handed_off_at is not None:
            return _finish(job, Outcome.SKIPPED, "handed_off", analysis)
        state.details = {**state.details, **decision.details}
        state.failures = max(state.failures, decision.failures)
        channel = job.message.channel
        can_answer = can_reply_on(channel)
        if decision.book_at and can_answer:
            _book_offered(conversation, state, decision)
            state.details = {**state.details, **decision.details}
        if decision.outcome == Outcome.ANSWERED and can_answer:
            send_automatic_message(
                conversation, decision.text, channel=channel, author_kind=AuthorKind.BOT
            )
            state.pending_action = decision.pending_action
            state.pending_intent = decision.pending_intent
            state.history = [*state.history, *decision.history]
            if decision.reason in ("slots_offered", "slot_taken"):
                _slots_offered(conversation, state.details["offer"])
        else:
            reason = decision.reason if decision.outcome == Outcome.HANDOFF else "cannot_reply"
            decision = Decision(Outcome.HANDOFF, reason, history=decision.history)
            state.history = [*state.history, *decision.history]
            _hand_off(conversation, state, analysis, decision, job.message, can_answer)
        state.save()
        return _finish(job, decision.outcome, decision.reason, analysis)


def _slots_offered(conversation: Conversation, offer: dict[str, Any]) -> None:
    """Tell the customer's widget (and consoles) that slots were offered: it opens its picker."""
    payload = {"conversation_id": conversation.pk, **offer}
    append_event(
        conversation.brand_id,
        APPOINTMENT_SLOTS_OFFERED,
        payload,
        actor=BOT,
        conversation=conversation,
        customer=conversation.customer,
        customer_payload=payload,
    )


def _hand_off(
    conversation: Conversation,
    state: ConversationState,
    analysis: Analysis,
    decision: Decision,
    message: Message,
    can_answer: bool,
) -> None:
    """Warm handoff: route to a person, tell the customer, raise priority, brief the agents."""
    team = handoff_team(analysis.intent, confident=not analysis.low_confidence)
    sure = analysis.intent is not None and not analysis.low_confidence
    routing = route_to_person(
        None,
        conversation,
        team=team,
        intent_id=analysis.intent.pk if sure else None,
        language=analysis.language,
    )
    conversation.refresh_from_db(fields=["assignee", "team"])
    # Only the customer's own advisor is named to them; a team member is "an advisor".
    advisor = conversation.assignee if routing == Routing.ADVISOR else None
    if can_answer:
        send_automatic_message(
            conversation,
            _handoff_announcement(advisor),
            channel=message.channel,
            author_kind=AuthorKind.BOT,
        )
    if conversation.customer.is_vip and analysis.angry:
        raise_priority(None, conversation, Priority.URGENT)
    elif conversation.customer.is_vip or analysis.angry:
        raise_priority(None, conversation, Priority.HIGH)
    summary = {
        "reason": decision.reason,
        "intent": analysis.intent.name if analysis.intent else "",
        "intent_label": analysis.intent.label if analysis.intent else "",
        "confidence": round(analysis.confidence, 2),
        "language": analysis.language,
        "sentiment": round(analysis.sentiment, 2),
        "angry": analysis.angry,
        "vip": conversation.customer.is_vip,
        "details": {
            k: v for k, v in state.details.items() if k not in ("language", "intent", "offer")
        },
        "history": state.history[-10:],
        "last_message": message.text[:500],
        "routed_to": _routed_to(routing, conversation),
    }
    unavailable = conversation.customer.advisor
    if unavailable is not None and routing not in (
        Routing.ADVISOR,
        Routing.LAST_AGENT,
        Routing.ALREADY_ASSIGNED,
    ):
        summary["routed_to"]["advisor_away"] = unavailable.display_name
    state.summary = summary
    state.handed_off_at = timezone.now()
    state.pending_action = ""
    state.pending_intent = ""
    with translation.override(conversation.brand.default_language or "fr"):
        note = add_note(None, conversation, summary_text(summary), author_kind=AuthorKind.BOT)
    # The console renders this note again from the summary, in each agent's language.
    summary["note_id"] = note.pk


def _handoff_announcement(advisor: Membership | None) -> str:
    if advisor is not None and advisor.user.first_name:
        return _(
            "I am putting you in touch with %(name)s, your advisor, who will see everything "
            "you have already told me. You will not need to repeat yourself."
        ) % {"name": advisor.user.first_name}
    return _(
        "I am putting you in touch with an advisor, who will see everything "
        "you have already told me. You will not need to repeat yourself."
    )


def _routed_to(routing: Routing, conversation: Conversation) -> dict[str, str]:
    if routing in (Routing.ADVISOR, Routing.LAST_AGENT, Routing.ALREADY_ASSIGNED):
        return {"kind": str(routing), "name": conversation.assignee.display_name}
    if routing == Routing.TEAM:
        return {"kind": str(routing), "name": conversation.team.name}
    if routing == Routing.TEAM_MEMBER:
        return {
            "kind": str(routing),
            "name": conversation.team.name,
            "agent": conversation.assignee.display_name,
        }
    return {"kind": str(routing), "name": ""}


def _finish(
    job: AssistantJob, outcome: str, reason: str, analysis: Analysis | None = None
) -> AssistantJob:
    job.status = JobStatus.DONE
    job.outcome = outcome
    job.reason = reason
    job.processed_at = timezone.now()
    fields = ["status", "outcome", "reason", "processed_at"]
    if analysis is not None:
        job.intent = analysis.intent.name if analysis.intent else ""
        job.confidence = analysis.confidence
        job.language = analysis.language
        job.sentiment = analysis.sentiment
        fields += ["intent", "confidence", "language", "sentiment"]
    job.save(update_fields=fields)
    if outcome in (Outcome.ANSWERED, Outcome.HANDOFF, Outcome.CLASSIFIED):
        append_event(
            job.brand_id,
            ASSISTANT_OUTCOMES[outcome],
            {
                "conversation_id": job.conversation_id,
                "message_id": job.message_id,
                "reason": reason,
                "intent": job.intent,
                "confidence": job.confidence,
            },
            actor=BOT,
            conversation=job.conversation,
        )
    return job
