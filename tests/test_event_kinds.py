"""The registry of event kinds: every kind is produced by the real action that appends it.

Each row of ``PRODUCERS`` runs one production action (ingest, a reply, a
provider's report, a merge, the assistant's worker round…) and returns the
event it appended, read back from the log, with the actor that action must
record. The event's stored payloads must match their kind's schemas: a key an
action adds, renames or retypes without its schema fails here. A kind with no
row fails ``test_every_kind_has_a_producer``.
"""

import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from pydantic import ValidationError

from comptoir.appointments.actions import (
    add_walk_in,
    available_slots,
    book_appointment,
    call_next,
    cancel_appointment,
    check_in,
    mark_no_show,
    reschedule_appointment,
    serve_appointment,
)
from comptoir.appointments.models import Outcome
from comptoir.assistant.configure import delete_brand_object
from comptoir.assistant.models import Intent
from comptoir.conversations.actions import (
    add_note,
    mark_pending,
    resolve_conversation,
    send_reply,
)
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel
from comptoir.customers.actions import (
    add_identity,
    dismiss_proposal,
    link_identity,
    record_consent,
    remove_identity,
    rename_customer,
    set_advisor,
    verify_identity,
)
from comptoir.customers.merging import merge_customers, unmerge
from comptoir.customers.models import DuplicateProposal, IdentityKind
from comptoir.events.actors import CUSTOMER, ActorKind
from comptoir.events.kinds import KINDS, Schema
from comptoir.events.models import Event
from comptoir.gdpr.actions import fulfil_export, request_data_export
from comptoir.moving_in import zendesk
from comptoir.moving_in.importer import import_export
from comptoir.outbound_webhooks.actions import create_endpoint
from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.outbound_webhooks.tasks import wake_due_endpoints
from comptoir.outbox import senders
from comptoir.outbox.actions import record_provider_status
from comptoir.outbox.senders import register_sender
from comptoir.routing.assignment import assign_conversation, route_to_person
from comptoir.routing.models import AgentProfile
from comptoir.routing.presence import set_availability, set_inactive_agents_away
from comptoir.surveys.actions import answer as answer_survey
from comptoir.surveys.actions import close_follow_up
from comptoir.surveys.models import FollowUp, Survey, SurveySettings
from comptoir.tasks import run_pending
from comptoir.tenancy.actions import invite_agent
from comptoir.tenancy.models import Availability, Brand, Membership, Role, Team
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.phone.actions import rotate_webhook_secret, save_phone_line
from comptoir.touchpoints.phone.callbacks import close_callback, request_callback
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEventKind
from comptoir.touchpoints.phone.models import CallbackStatus
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent
from tests.sla_helpers import office_policy, paris, run_timers
from tests.test_assistant import call_report, setup_assistant, write
from tests.test_email_inbound import GHOST, SUPPORT, dsn_for, mail, receive, sent_reply
from tests.test_outbox import TEST_CHANNEL, RecordingSender, queued


@dataclass(frozen=True)
class Produced:
    """An event an action appended, and what the log must say about it."""

    event: Event
    actor_kind: str
    # The membership of the agent who acted; None when nobody did (customer, bot, system).
    actor_id: int | None = None
    # Whether the customer's widget gets this event (``customer_payload`` set).
    shown_to_customer: bool = False


def last_event_id() -> int:
    return Event.objects.aggregate(last=Max("pk"))["last"] or 0


def appended(kind: str, after: int, **lookups) -> Event:
    """The one event of ``kind`` appended since event ``after``, read back from the log."""
    return Event.objects.get(kind=kind, pk__gt=after, **lookups)


def supervisor_of(brand: Brand):
    return make_agent(brand, Role.SUPERVISOR, first_name="Sam")


# --- Conversations and messages --------------------------------------------------------------


def chat_opens_a_conversation(brand: Brand) -> Produced:
    before = last_event_id()
    message = ingest_chat(brand, "Bonjour, ma commande n'est pas arrivée")
    event = appended("conversation.created", before, payload__id=message.pk)
    return Produced(event, ActorKind.CUSTOMER, shown_to_customer=True)


def call_opens_a_conversation(brand: Brand) -> Produced:
    before = last_event_id()
    record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
    return Produced(appended("conversation.created", before), ActorKind.SYSTEM)


def chat_message_in_an_open_conversation(brand: Brand) -> Produced:
    visitor = uuid.uuid4().hex
    ingest_chat(brand, "Bonjour", visitor_id=visitor)
    before = last_event_id()
    ingest_chat(brand, "Vous êtes là ?", visitor_id=visitor)
    return Produced(appended("message.created", before), ActorKind.CUSTOMER, shown_to_customer=True)


def agent_reply(brand: Brand) -> Produced:
    agent = make_agent(brand)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    send_reply(agent, conversation, "Je regarde votre commande.")
    event = appended("message.created", before)
    return Produced(event, ActorKind.AGENT, agent.pk, shown_to_customer=True)


def agent_note(brand: Brand) -> Produced:
    agent = make_agent(brand)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    add_note(agent, conversation, "Client fidèle, à rappeler.")
    return Produced(appended("message.created", before), ActorKind.AGENT, agent.pk)


def agent_resolves(brand: Brand) -> Produced:
    agent = make_agent(brand)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    resolve_conversation(agent, conversation)
    event = appended("conversation.updated", before)
    return Produced(event, ActorKind.AGENT, agent.pk, shown_to_customer=True)


def agent_assigns(brand: Brand) -> Produced:
    agent, colleague = make_agent(brand), make_agent(brand)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    assign_conversation(agent, conversation, colleague)
    return Produced(appended("conversation.updated", before), ActorKind.AGENT, agent.pk)


def handoff_routed_to_a_team(brand: Brand) -> Produced:
    team = Team.objects.create(brand=brand, name="Livraisons")
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    route_to_person(None, conversation, team)
    return Produced(appended("conversation.updated", before), ActorKind.BOT)


def second_call_transcript(brand: Brand) -> Produced:
    record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
    record_call_event(brand, call_report(CallEventKind.TRANSCRIPT, "t1", transcript="Rappelez-moi"))
    before = last_event_id()
    record_call_event(
        brand, call_report(CallEventKind.TRANSCRIPT, "t2", transcript="Rappelez-moi demain")
    )
    return Produced(appended("message.updated", before), ActorKind.SYSTEM)


# --- Deliveries, calls, callbacks, agents ---------------------------------------------------


def delivery_status_from_provider(brand: Brand) -> Produced:
    sender = RecordingSender()
    sender.behaviour = lambda delivery: "wamid.1"
    register_sender(TEST_CHANNEL, sender)
    try:
        queued(brand, None)
        run_pending()
        before = last_event_id()
        assert record_provider_status(brand.pk, TEST_CHANNEL, "wamid.1", "delivered")
    finally:
        senders._senders.pop(TEST_CHANNEL, None)
    return Produced(appended("delivery.updated", before), ActorKind.SYSTEM)


def call_answered_by_an_agent(brand: Brand) -> Produced:
    agent = make_agent(brand)
    record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
    before = last_event_id()
    record_call_event(brand, call_report(CallEventKind.ANSWERED, "a"), agent=agent)
    event = appended("call.updated", before)
    assert event.payload["agent_id"] == agent.pk
    # The provider reported it: the system acts, the agent is in the payload.
    return Produced(event, ActorKind.SYSTEM)


def _callback(brand: Brand):
    callback, created = request_callback(
        brand,
        [IdentityClaim(IdentityKind.CHAT_VISITOR, uuid.uuid4().hex, verified=True)],
        "06 12 34 56 78",
        requested_for=None,
        note="Plutôt le matin",
        channel=Channel.WEBCHAT,
        external_id=f"callback:{uuid.uuid4().hex}",
        source="widget",
    )
    assert created
    return callback


def callback_requested(brand: Brand) -> Produced:
    before = last_event_id()
    _callback(brand)
    return Produced(appended("callback.requested", before), ActorKind.CUSTOMER)


def callback_closed(brand: Brand) -> Produced:
    agent = make_agent(brand)
    callback = _callback(brand)
    before = last_event_id()
    close_callback(agent, callback, CallbackStatus.DONE)
    return Produced(appended("callback.updated", before), ActorKind.AGENT, agent.pk)


def agent_assigns_by_hand(brand: Brand) -> Produced:
    agent, colleague = make_agent(brand), make_agent(brand)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    assign_conversation(agent, conversation, colleague)
    return Produced(appended("conversation.assigned", before), ActorKind.AGENT, agent.pk)


def router_gives_a_handoff_to_a_team_member(brand: Brand) -> Produced:
    member = make_agent(brand)
    Membership.objects.filter(pk=member.pk).update(last_seen_at=timezone.now())
    team = Team.objects.create(brand=brand, name="Livraisons", auto_assign=True)
    team.members.add(member)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    route_to_person(None, conversation, team)
    return Produced(appended("conversation.assigned", before), ActorKind.BOT)


def inactive_agent_set_away(brand: Brand) -> Produced:
    agent = make_agent(brand)
    long_ago = timezone.now() - timedelta(hours=1)
    Membership.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now())
    AgentProfile.objects.create(membership=agent, brand=brand, last_active_at=long_ago)
    before = last_event_id()
    set_inactive_agents_away()
    return Produced(appended("agent.availability_changed", before), ActorKind.SYSTEM)


def agent_goes_away(brand: Brand) -> Produced:
    agent = make_agent(brand)
    before = last_event_id()
    set_availability(agent, Availability.AWAY, actor=agent)
    return Produced(appended("agent.availability_changed", before), ActorKind.AGENT, agent.pk)


# --- Customers -------------------------------------------------------------------------------


def customer_names_themselves(brand: Brand) -> Produced:
    customer = ingest_chat(brand).conversation.customer
    before = last_event_id()
    rename_customer(customer, "Ana Lima")
    return Produced(appended("customer.updated", before), ActorKind.CUSTOMER)


def agent_adds_an_identity(brand: Brand) -> Produced:
    agent = make_agent(brand)
    customer = ingest_chat(brand).conversation.customer
    before = last_event_id()
    add_identity(agent, customer, IdentityKind.EMAIL, "ana@example.org")
    return Produced(appended("customer.identity_added", before), ActorKind.AGENT, agent.pk)


def customer_types_an_address(brand: Brand) -> Produced:
    customer = ingest_chat(brand).conversation.customer
    before = last_event_id()
    link_identity(customer, IdentityKind.EMAIL, "ana@example.org")
    return Produced(appended("customer.identity_added", before), ActorKind.CUSTOMER)


def agent_verifies_an_identity(brand: Brand) -> Produced:
    agent = make_agent(brand)
    customer = ingest_chat(brand).conversation.customer
    identity = add_identity(agent, customer, IdentityKind.EMAIL, "ana@example.org")
    before = last_event_id()
    verify_identity(agent, identity)
    return Produced(appended("customer.identity_verified", before), ActorKind.AGENT, agent.pk)


def agent_removes_an_identity(brand: Brand) -> Produced:
    agent = make_agent(brand)
    customer = ingest_chat(brand).conversation.customer
    identity = add_identity(agent, customer, IdentityKind.EMAIL, "wrong@example.org")
    before = last_event_id()
    remove_identity(agent, identity)
    return Produced(appended("customer.identity_removed", before), ActorKind.AGENT, agent.pk)


def mail_to_an_address_bounces(brand: Brand) -> Produced:
    Mailbox.objects.create(brand=brand, address=SUPPORT)
    reply = sent_reply(make_agent(brand), GHOST)
    before = last_event_id()
    receive(dsn_for(reply.external_id))
    return Produced(appended("customer.identity_failing", before), ActorKind.SYSTEM)


def owner_claims_a_typed_address(brand: Brand) -> Produced:
    Mailbox.objects.create(brand=brand, address=SUPPORT)
    typed = IdentityClaim(IdentityKind.EMAIL, "owner@example.org")
    ingest_chat(brand, "Bonjour", extra_identities=[typed])
    before = last_event_id()
    receive(mail(sender="owner@example.org"))
    return Produced(appended("customer.identity_claimed", before), ActorKind.CUSTOMER)


def supervisor_sets_an_advisor(brand: Brand) -> Produced:
    supervisor, advisor = supervisor_of(brand), make_agent(brand)
    customer = ingest_chat(brand).conversation.customer
    before = last_event_id()
    set_advisor(supervisor, customer, advisor)
    event = appended("customer.advisor_changed", before)
    return Produced(event, ActorKind.AGENT, supervisor.pk)


def agent_records_a_withdrawal(brand: Brand) -> Produced:
    agent = make_agent(brand)
    customer = ingest_chat(brand).conversation.customer
    before = last_event_id()
    record_consent(customer, "surveys", False, source="console", actor=agent)
    event = appended("customer.consent_recorded", before)
    return Produced(event, ActorKind.AGENT, agent.pk)


def customer_asks_for_an_export(brand: Brand) -> Produced:
    customer = ingest_chat(brand).conversation.customer
    before = last_event_id()
    request_data_export(customer, source="widget")
    return Produced(appended("data_request.opened", before), ActorKind.CUSTOMER)


def supervisor_closes_an_export_request(brand: Brand) -> Produced:
    supervisor = supervisor_of(brand)
    data_request = request_data_export(ingest_chat(brand).conversation.customer, source="portal")
    before = last_event_id()
    fulfil_export(supervisor, data_request)
    event = appended("data_request.closed", before)
    return Produced(event, ActorKind.AGENT, supervisor.pk)


def _two_customers(brand: Brand):
    first = ingest_chat(brand, "Bonjour").conversation.customer
    second = ingest_chat(brand, "Re-bonjour").conversation.customer
    return first, second


def supervisor_dismisses_a_duplicate(brand: Brand) -> Produced:
    supervisor = supervisor_of(brand)
    a, b = sorted(_two_customers(brand), key=lambda customer: customer.pk)
    proposal = DuplicateProposal.objects.create(
        brand=brand, customer_a_id=a.pk, customer_b_id=b.pk, score=0.9, reasons=[]
    )
    before = last_event_id()
    dismiss_proposal(supervisor, proposal)
    event = appended("customer.duplicate_dismissed", before, customer=a)
    return Produced(event, ActorKind.AGENT, supervisor.pk)


def supervisor_merges(brand: Brand) -> Produced:
    supervisor = supervisor_of(brand)
    survivor, absorbed = _two_customers(brand)
    before = last_event_id()
    merge_customers(supervisor, survivor, absorbed)
    event = appended("customer.merged", before, customer=absorbed)
    return Produced(event, ActorKind.AGENT, supervisor.pk, shown_to_customer=True)


def supervisor_unmerges(brand: Brand) -> Produced:
    supervisor = supervisor_of(brand)
    survivor, absorbed = _two_customers(brand)
    record = merge_customers(supervisor, survivor, absorbed)
    before = last_event_id()
    unmerge(supervisor, record)
    event = appended("customer.unmerged", before, customer=survivor)
    return Produced(event, ActorKind.AGENT, supervisor.pk, shown_to_customer=True)


# --- E-mail and the assistant ----------------------------------------------------------------


def mail_received(brand: Brand) -> Produced:
    Mailbox.objects.create(brand=brand, address=SUPPORT)
    before = last_event_id()
    receive(mail())
    return Produced(appended("email.received", before), ActorKind.CUSTOMER)


def assistant_answers(brand: Brand) -> Produced:
    setup_assistant(brand)
    before = last_event_id()
    write(brand, "Bonjour, quels sont vos horaires d'ouverture ?")
    return Produced(appended("assistant.answered", before), ActorKind.BOT)


def assistant_hands_off(brand: Brand) -> Produced:
    setup_assistant(brand)
    before = last_event_id()
    write(brand, "Je veux parler à un conseiller")
    return Produced(appended("assistant.handoff", before), ActorKind.BOT)


def assistant_classifies_a_transcript(brand: Brand) -> Produced:
    setup_assistant(brand)
    before = last_event_id()
    ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.PHONE,
            external_id="call-1:transcript",
            text="Bonjour, je voudrais savoir où en est ma commande, merci",
            identities=[IdentityClaim(IdentityKind.PHONE, "+33612345678")],
        )
    )
    run_pending()
    return Produced(appended("assistant.classified", before), ActorKind.BOT)


def admin_deletes_an_intent(brand: Brand) -> Produced:
    admin = make_agent(brand, Role.ADMIN)
    intent = Intent.objects.create(brand=brand, name="returns", label="Returns")
    before = last_event_id()
    delete_brand_object(admin, intent)
    return Produced(appended("assistant.intents_changed", before), ActorKind.AGENT, admin.pk)


# --- SLAs -------------------------------------------------------------------------------------


def agent_marks_pending(brand: Brand) -> Produced:
    agent = make_agent(brand)
    conversation = ingest_chat(brand).conversation
    before = last_event_id()
    mark_pending(agent, conversation)
    event = appended("conversation.updated", before)
    return Produced(event, ActorKind.AGENT, agent.pk, shown_to_customer=True)


def _sla_timer_fires(brand: Brand, kind: str, hours_later: float) -> Produced:
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = ingest_chat(brand).conversation
        run_pending()
    before = last_event_id()
    with time_machine.travel(paris(2031, 6, 3, 9) + timedelta(hours=hours_later), tick=False):
        run_timers()
    return Produced(appended(kind, before, conversation=conversation), ActorKind.SYSTEM)


def sla_timer_finds_a_target_at_risk(brand: Brand) -> Produced:
    # First response 2 h: at risk after 96 min, breached after 2 h.
    return _sla_timer_fires(brand, "sla.at_risk", 1.75)


def sla_timer_finds_a_target_breached(brand: Brand) -> Produced:
    return _sla_timer_fires(brand, "sla.breached", 2.5)


# --- Surveys ----------------------------------------------------------------------------------


def _resolved_chat_surveyed(brand: Brand):
    SurveySettings.objects.get_or_create(brand=brand)
    agent = make_agent(brand)
    conversation = ingest_chat(brand).conversation
    send_reply(agent, conversation, "C'est réglé.")
    resolve_conversation(agent, conversation)
    return agent, conversation


def chat_resolved_then_surveyed(brand: Brand) -> Produced:
    _agent, conversation = _resolved_chat_surveyed(brand)
    before = last_event_id()
    run_pending()
    event = appended("survey.sent", before, conversation=conversation)
    return Produced(event, ActorKind.SYSTEM, shown_to_customer=True)


def call_ended_then_surveyed_by_the_telephony(brand: Brand) -> Produced:
    SurveySettings.objects.get_or_create(brand=brand)
    agent = make_agent(brand)
    record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
    record_call_event(brand, call_report(CallEventKind.ANSWERED, "a"), agent=agent)
    before = last_event_id()
    record_call_event(brand, call_report(CallEventKind.ENDED, "e", status="completed"))
    run_pending()
    return Produced(appended("survey.sent", before), ActorKind.SYSTEM)


def customer_answers_a_survey(brand: Brand) -> Produced:
    _agent, conversation = _resolved_chat_surveyed(brand)
    run_pending()
    before = last_event_id()
    answer_survey(Survey.objects.get(conversation=conversation), 5, 6, "Merci")
    event = appended("survey.answered", before)
    return Produced(event, ActorKind.CUSTOMER, shown_to_customer=True)


def low_score_opens_a_follow_up(brand: Brand) -> Produced:
    _agent, conversation = _resolved_chat_surveyed(brand)
    run_pending()
    before = last_event_id()
    answer_survey(Survey.objects.get(conversation=conversation), 1)
    return Produced(appended("survey.follow_up", before), ActorKind.SYSTEM)


def supervisor_closes_a_follow_up(brand: Brand) -> Produced:
    low_score_opens_a_follow_up(brand)
    supervisor = supervisor_of(brand)
    before = last_event_id()
    close_follow_up(supervisor, FollowUp.objects.get(brand=brand))
    return Produced(appended("survey.follow_up", before), ActorKind.AGENT, supervisor.pk)


# --- Outbound webhooks -------------------------------------------------------------------------


def webhook_endpoint_fails_for_days(brand: Brand) -> Produced:
    """An endpoint nothing answers (a closed port), tried again days later: switched off."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint, _ = create_endpoint(
        make_agent(brand, Role.ADMIN), url=f"http://127.0.0.1:{port}/", kinds=["message.created"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(allow_private_addresses=True)
    conversation = ingest_chat(brand).conversation
    start = timezone.now()
    send_reply(make_agent(brand), conversation, "Bonjour")
    run_pending()
    before = last_event_id()
    later = start + timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS, minutes=1)
    with time_machine.travel(later, tick=False):
        WebhookDelivery.objects.update(next_attempt_at=start)
        WebhookEndpoint.objects.update(next_attempt_at=start)
        wake_due_endpoints()
        run_pending()
    return Produced(appended("webhook.endpoint_disabled", before), ActorKind.SYSTEM)


# --- Moving in ----------------------------------------------------------------------------------


def zendesk_ticket_imported(brand: Brand) -> Produced:
    before = last_event_id()
    import_export(brand, "zendesk", zendesk.read_export(Path(__file__).parent / "fixtures/zendesk"))
    event = Event.objects.filter(kind="conversation.imported", pk__gt=before).first()
    return Produced(event, ActorKind.SYSTEM)


# --- Settings -------------------------------------------------------------------------------


def admin_invites_an_agent(brand: Brand) -> Produced:
    admin = make_agent(brand, Role.ADMIN, first_name="Ada")
    before = last_event_id()
    invite_agent(admin, "new.agent@example.org", "Nina", "Roux", Role.AGENT, "http://testserver/")
    return Produced(appended("settings.changed", before), ActorKind.AGENT, admin.pk)


def admin_rotates_a_phone_line_secret(brand: Brand) -> Produced:
    admin = make_agent(brand, Role.ADMIN, first_name="Ada")
    line, _ = save_phone_line(admin, None, {"number": f"+3318000{brand.pk:04d}"})
    before = last_event_id()
    rotate_webhook_secret(admin, line)
    return Produced(appended("settings.changed", before), ActorKind.AGENT, admin.pk)


# --- Appointments ------------------------------------------------------------------------------


def _booked(brand: Brand, agent: Membership | None = None):
    """A booking of the first free slot of a new shop, for a chat customer of ``brand``."""
    location, service = shop(brand), diagnosis(brand)
    now = timezone.now()
    slot = available_slots(location, service, now, now + timedelta(days=8))[0]
    customer = ingest_chat(brand).conversation.customer
    return book_appointment(location, service, slot.starts_at, customer=customer, booked_by=agent)


def agent_books_an_appointment(brand: Brand) -> Produced:
    agent = make_agent(brand)
    before = last_event_id()
    _booked(brand, agent)
    return Produced(appended("appointment.booked", before), ActorKind.AGENT, agent.pk)


def customer_moves_their_appointment(brand: Brand) -> Produced:
    appointment = _booked(brand)
    later = available_slots(
        appointment.location,
        appointment.service,
        appointment.ends_at,
        appointment.ends_at + timedelta(days=8),
    )[0]
    before = last_event_id()
    reschedule_appointment(appointment, later.starts_at, actor=CUSTOMER)
    return Produced(appended("appointment.rescheduled", before), ActorKind.CUSTOMER)


def customer_cancels_their_appointment(brand: Brand) -> Produced:
    appointment = _booked(brand)
    before = last_event_id()
    cancel_appointment(appointment, actor=CUSTOMER)
    return Produced(appended("appointment.cancelled", before), ActorKind.CUSTOMER)


def customer_checks_in(brand: Brand) -> Produced:
    appointment = _booked(brand)
    before = last_event_id()
    check_in(appointment, actor=CUSTOMER)
    return Produced(appended("appointment.checked_in", before), ActorKind.CUSTOMER)


def _waiting(brand: Brand, agent: Membership):
    location, service = shop(brand), diagnosis(brand)
    return add_walk_in(location, service, by=agent, first_name="Léa")


def staff_calls_the_next_customer(brand: Brand) -> Produced:
    agent = make_agent(brand)
    appointment = _waiting(brand, agent)
    before = last_event_id()
    call_next(appointment.location, agent)
    return Produced(appended("appointment.called", before), ActorKind.AGENT, agent.pk)


def staff_serves_a_customer(brand: Brand) -> Produced:
    agent = make_agent(brand)
    appointment = _waiting(brand, agent)
    before = last_event_id()
    serve_appointment(appointment, agent, outcome=Outcome.FIXED, diagnosis="Écran remplacé")
    return Produced(appended("appointment.served", before), ActorKind.AGENT, agent.pk)


def staff_records_a_no_show(brand: Brand) -> Produced:
    agent = make_agent(brand)
    appointment = _booked(brand)
    before = last_event_id()
    mark_no_show(appointment, agent)
    return Produced(appended("appointment.no_show", before), ActorKind.AGENT, agent.pk)


# Kind name → an action that appends it (a kind with several producers has several rows).
PRODUCERS: list[tuple[str, Callable[[Brand], Produced]]] = [
    ("conversation.created", chat_opens_a_conversation),
    ("conversation.created", call_opens_a_conversation),
    ("conversation.updated", agent_resolves),
    ("conversation.updated", agent_assigns),
    ("conversation.updated", handoff_routed_to_a_team),
    ("conversation.updated", agent_marks_pending),
    ("message.created", chat_message_in_an_open_conversation),
    ("message.created", agent_reply),
    ("message.created", agent_note),
    ("message.updated", second_call_transcript),
    ("delivery.updated", delivery_status_from_provider),
    ("call.updated", call_answered_by_an_agent),
    ("callback.requested", callback_requested),
    ("callback.updated", callback_closed),
    ("agent.availability_changed", agent_goes_away),
    ("agent.availability_changed", inactive_agent_set_away),
    ("conversation.assigned", agent_assigns_by_hand),
    ("conversation.assigned", router_gives_a_handoff_to_a_team_member),
    ("customer.updated", customer_names_themselves),
    ("customer.identity_added", agent_adds_an_identity),
    ("customer.identity_added", customer_types_an_address),
    ("customer.identity_verified", agent_verifies_an_identity),
    ("customer.identity_removed", agent_removes_an_identity),
    ("customer.identity_failing", mail_to_an_address_bounces),
    ("customer.identity_claimed", owner_claims_a_typed_address),
    ("customer.advisor_changed", supervisor_sets_an_advisor),
    ("customer.consent_recorded", agent_records_a_withdrawal),
    ("data_request.opened", customer_asks_for_an_export),
    ("data_request.closed", supervisor_closes_an_export_request),
    ("customer.duplicate_dismissed", supervisor_dismisses_a_duplicate),
    ("customer.merged", supervisor_merges),
    ("customer.unmerged", supervisor_unmerges),
    ("email.received", mail_received),
    ("assistant.answered", assistant_answers),
    ("assistant.handoff", assistant_hands_off),
    ("assistant.classified", assistant_classifies_a_transcript),
    ("assistant.intents_changed", admin_deletes_an_intent),
    ("sla.at_risk", sla_timer_finds_a_target_at_risk),
    ("sla.breached", sla_timer_finds_a_target_breached),
    ("survey.sent", chat_resolved_then_surveyed),
    ("survey.sent", call_ended_then_surveyed_by_the_telephony),
    ("survey.answered", customer_answers_a_survey),
    ("survey.follow_up", low_score_opens_a_follow_up),
    ("survey.follow_up", supervisor_closes_a_follow_up),
    ("webhook.endpoint_disabled", webhook_endpoint_fails_for_days),
    ("conversation.imported", zendesk_ticket_imported),
    ("settings.changed", admin_invites_an_agent),
    ("settings.changed", admin_rotates_a_phone_line_secret),
    ("appointment.booked", agent_books_an_appointment),
    ("appointment.rescheduled", customer_moves_their_appointment),
    ("appointment.cancelled", customer_cancels_their_appointment),
    ("appointment.checked_in", customer_checks_in),
    ("appointment.called", staff_calls_the_next_customer),
    ("appointment.served", staff_serves_a_customer),
    ("appointment.no_show", staff_records_a_no_show),
]


def test_every_kind_has_a_producer():
    assert {name for name, _ in PRODUCERS} == set(KINDS)


@pytest.mark.parametrize(
    ("kind_name", "produce"),
    PRODUCERS,
    ids=[f"{name}:{produce.__name__}" for name, produce in PRODUCERS],
)
def test_each_kind_is_appended_by_its_action_as_its_schema_says(
    brand, settings, tmp_path, kind_name, produce
):
    settings.EMAIL_FILE_PATH = str(tmp_path)  # outbound mail leaves through the file backend
    kind = KINDS[kind_name]
    produced = produce(brand)
    event = produced.event
    assert event.kind == kind.name and event.brand_id == brand.pk
    kind.payload.model_validate(event.payload)
    if produced.shown_to_customer:
        assert kind.customer_payload is not None
        kind.customer_payload.model_validate(event.customer_payload)
    else:
        assert event.customer_payload is None
    assert (event.actor_kind, event.actor_id) == (produced.actor_kind, produced.actor_id)


def _schemas() -> list[tuple[str, type[Schema]]]:
    schemas = [(f"{name}:payload", kind.payload) for name, kind in KINDS.items()]
    schemas += [
        (f"{name}:customer_payload", kind.customer_payload)
        for name, kind in KINDS.items()
        if kind.customer_payload is not None
    ]
    return schemas


@pytest.mark.parametrize(("label", "schema"), _schemas(), ids=[label for label, _ in _schemas()])
def test_every_schema_rejects_an_unknown_key(label, schema):
    with pytest.raises(ValidationError) as refused:
        schema.model_validate({"surprise": 1})
    assert [
        error["loc"] for error in refused.value.errors() if error["type"] == "extra_forbidden"
    ] == [("surprise",)]
