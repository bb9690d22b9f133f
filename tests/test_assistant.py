"""The assistant (issue 4): answers at once when it can, hands off warmly when it matters.

Everything runs for real: the trained classifier of ``comptoir.assistant.nlu``,
the brand's order endpoint as a local ``http.server`` in a thread, the
worker's job round (``run_pending``), the console page an agent opens.
"""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from comptoir.assistant import configure, engine
from comptoir.assistant.enabled_brands import forget_enabled_brands
from comptoir.assistant.endpoints import EndpointError, call_endpoint, check_url
from comptoir.assistant.metrics import assistant_rates
from comptoir.assistant.models import (
    AssistantJob,
    AssistantSettings,
    ConversationState,
    Intent,
    JobStatus,
    KnowledgeArticle,
    Outcome,
    TrainedModel,
)
from comptoir.assistant.retrieval import rank_passages
from comptoir.assistant.rules import asks_for_human, extract_order_number, rejects_answer
from comptoir.conversations.actions import add_note, send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import (
    AuthorKind,
    Channel,
    Conversation,
    Direction,
    Message,
    Priority,
)
from comptoir.customers.models import IdentityKind
from comptoir.events.models import Event
from comptoir.routing.assignment import assign_conversation
from comptoir.tasks import run_pending
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from tests.factories import chat_message, ingest_chat, make_brand
from tests.task_helpers import drop_queued_jobs, queued_task_names

# The task a customer message queues for the assistant (the listener run by a worker).
ANSWER_TASK = "comptoir.assistant.listeners.answer_customer"

# The test brand's intents: (name, automatable, action, answer_fr, answer_en, phrases fr, en).
INTENTS = [
    (
        "order_tracking",
        True,
        "order_status",
        "Bonjour {customer_name}, votre commande {order_number} est {status}. "
        "Livraison prévue le {expected_delivery}.",
        "Hello {customer_name}, your order {order_number} is {status}. "
        "Expected delivery: {expected_delivery}.",
        [
            "Où en est ma commande ?",
            "Je voudrais suivre ma commande",
            "Quel est le statut de ma commande MD-10482 ?",
            "Ma commande est-elle partie ?",
            "Pouvez-vous me dire où est mon colis ?",
            "suivi de commande",
        ],
        [
            "Where is my order?",
            "I want to track my order",
            "What is the status of order MD-10482?",
            "Has my order shipped yet?",
            "Can you tell me where my parcel is?",
            "order tracking",
        ],
    ),
    (
        "opening_hours",
        True,
        "",
        "Nos boutiques sont ouvertes du lundi au samedi, de 10 h à 19 h.",
        "Our shops are open Monday to Saturday, 10 am to 7 pm.",
        [
            "Quels sont vos horaires d'ouverture ?",
            "À quelle heure ouvre la boutique ?",
            "Êtes-vous ouverts le dimanche ?",
            "Où se trouve votre magasin ?",
            "horaires du magasin",
            "Jusqu'à quelle heure êtes-vous ouverts ?",
        ],
        [
            "What are your opening hours?",
            "What time does the shop open?",
            "Are you open on Sundays?",
            "Where is your store?",
            "store hours",
            "Until what time are you open?",
        ],
    ),
    (
        "returns",
        True,
        "",
        "",  # answered from the knowledge base
        "",
        [
            "Comment retourner un article ?",
            "Je veux être remboursé",
            "Quel est le délai de remboursement ?",
            "Puis-je échanger un produit ?",
            "retour et remboursement",
            "Je souhaite renvoyer ma commande",
        ],
        [
            "How do I return an item?",
            "I want a refund",
            "How long does a refund take?",
            "Can I exchange a product?",
            "returns and refunds",
            "I would like to send my order back",
        ],
    ),
    (
        "appointment",
        False,
        "",
        "Un conseiller vous rappelle pour fixer un rendez-vous.",
        "An advisor will call you back to set an appointment.",
        [
            "Je voudrais prendre rendez-vous",
            "Puis-je avoir un rendez-vous en boutique ?",
            "Prendre un rendez-vous avec un décorateur",
            "Je souhaite réserver un créneau",
            "rendez-vous pour un conseil déco",
            "Avez-vous des disponibilités pour un rendez-vous ?",
        ],
        [
            "I would like to book an appointment",
            "Can I get an appointment in store?",
            "Book a session with a decorator",
            "I want to reserve a time slot",
            "appointment for decoration advice",
            "Do you have any availability for an appointment?",
        ],
    ),
]

ARTICLES = [
    (
        "fr",
        "Retours et remboursements",
        "# Retours\n\nVous disposez de 30 jours pour retourner un article. L'étiquette de "
        "retour est gratuite.\n\n## Remboursement\n\nLe remboursement est fait sous 5 jours "
        "ouvrés après réception du retour, sur le moyen de paiement de la commande.",
    ),
    (
        "en",
        "Returns and refunds",
        "# Returns\n\nYou have 30 days to return an item. The return label is free.\n\n"
        "## Refund\n\nThe refund is made within 5 working days after we receive the return, "
        "on the payment method of the order.",
    ),
]

_trained: dict[str, bytes] = {}


def setup_assistant(brand, *, enabled: bool = True, **settings) -> AssistantSettings:
    """The test intents and articles for ``brand``, a trained model, the assistant switched on."""
    for name, automatable, action, answer_fr, answer_en, fr, en in INTENTS:
        Intent.objects.create(
            brand=brand,
            name=name,
            label=name.replace("_", " ").capitalize(),
            automatable=automatable,
            action=action,
            answer_fr=answer_fr,
            answer_en=answer_en,
            training_phrases_fr=fr,
            training_phrases_en=en,
        )
    for language, title, body in ARTICLES:
        KnowledgeArticle.objects.create(brand=brand, language=language, title=title, body=body)
    _, digest = engine.training_examples(brand.pk)
    if digest in _trained:  # trained once per test run: same phrases, same model
        # Nothing listens to intent saves: the test stores the brand's model row itself.
        TrainedModel.objects.update_or_create(
            brand=brand,
            defaults={
                "data": _trained[digest],
                "trained_at": timezone.now(),
                "intents_hash": digest,
                "requested_at": None,
            },
        )
    else:
        model = engine.train_brand(brand.pk)
        assert model.data is not None, model.last_error
        _trained[digest] = bytes(model.data)
    assistant_settings = AssistantSettings.objects.create(brand=brand, enabled=enabled, **settings)
    forget_enabled_brands()  # as ``configure`` does: this process sees the switch at once
    return assistant_settings


def bot_messages(conversation_id: int, *, notes: bool = False) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation_id=conversation_id, author_kind=AuthorKind.BOT, is_internal_note=notes
        ).order_by("pk")
    )


def job_of(message: Message) -> AssistantJob:
    return AssistantJob.objects.get(message=message)


def write(brand, text: str, visitor: str = "a" * 32) -> Message:
    """The customer writes in the widget and the worker runs a round."""
    message = ingest_chat(brand, text, visitor_id=visitor)
    run_pending()
    return message


# Answered at once


def test_automatable_intent_is_answered_at_once_on_the_widget(brand):
    setup_assistant(brand)
    message = write(brand, "Bonjour, quels sont vos horaires d'ouverture ?")
    job = job_of(message)
    assert (job.status, job.outcome, job.intent, job.language) == (
        JobStatus.DONE,
        Outcome.ANSWERED,
        "opening_hours",
        "fr",
    )
    [reply] = bot_messages(message.conversation_id)
    assert "lundi au samedi" in reply.text
    assert reply.channel == Channel.WEBCHAT and reply.direction == "out"
    assert Event.objects.filter(kind="assistant.answered", conversation=reply.conversation).exists()
    # The customer sees it: the message event carries a customer payload.
    event = Event.objects.filter(kind="message.created", payload__id=reply.pk).get()
    assert event.customer_payload is not None


def test_english_question_gets_the_english_answer(brand):
    setup_assistant(brand)
    message = write(brand, "Hello, what are your opening hours on Saturday?")
    assert job_of(message).language == "en"
    [reply] = bot_messages(message.conversation_id)
    assert "Monday to Saturday" in reply.text


def test_knowledge_base_passage_answers_an_intent_without_template(brand):
    setup_assistant(brand)
    message = write(brand, "Quel est le délai de remboursement après un retour ?")
    assert job_of(message).outcome == Outcome.ANSWERED
    [reply] = bot_messages(message.conversation_id)
    assert "5 jours" in reply.text and "Remboursement" in reply.text


def test_passage_ranking_prefers_the_paragraph_sharing_rare_words():
    articles = [(1, "Horaires", "Ouvert de 10 h à 19 h.\n\nFermé le dimanche et les jours fériés.")]
    articles.append((2, "Livraison", "La livraison prend 3 jours ouvrés en France."))
    [best, *_] = rank_passages("êtes-vous fermés le dimanche ?", articles)
    assert best.article_id == 1 and "dimanche" in best.text
    assert rank_passages("zzz qqq", articles) == []


# Handoff triggers

HUMAN_REQUESTS = [
    "Je veux parler à un conseiller",
    "CONSEILLER",
    "un humain svp",
    "Est-ce que je peux parler à quelqu\u2019un ?",
    "je voudrais une vraie personne",
    "agent",
    "I want to talk to a person",
    "Can I speak to a real person please",
    "representative",
    "let me chat with a human",
]


@pytest.mark.parametrize("text", HUMAN_REQUESTS)
def test_asking_for_a_person_is_recognised_in_any_wording(text):
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["Où en est ma commande ?", "What are your opening hours?", "Merci beaucoup !"]
)
def test_ordinary_questions_are_not_requests_for_a_person(text):
    assert not asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["Je veux parler à un conseiller", "un humain svp", "Can I speak to a real person"]
)
def test_asking_for_a_person_hands_off_with_a_warm_message(brand, text):
    setup_assistant(brand)
    message = write(brand, text)
    job = job_of(message)
    assert (job.outcome, job.reason) == (Outcome.HANDOFF, "asked_for_human")
    [handoff] = bot_messages(message.conversation_id)
    assert "advisor" in handoff.text or "conseiller" in handoff.text
    [note] = bot_messages(message.conversation_id, notes=True)
    assert "handoff" in note.text.lower() or "transmis par l\u2019assistant" in note.text.lower()
    state = ConversationState.objects.get(conversation_id=message.conversation_id)
    assert state.handed_off_at is not None and state.summary["reason"] == "asked_for_human"
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.assignee_id is None  # in the unassigned queue for humans


def test_the_assistant_stays_quiet_after_a_handoff(brand):
    setup_assistant(brand)
    first = write(brand, "conseiller")
    second = write(brand, "Quels sont vos horaires d'ouverture ?")
    assert job_of(second).reason == "handed_off"
    assert len(bot_messages(first.conversation_id)) == 1


def test_low_confidence_hands_off(brand):
    setup_assistant(brand, confidence_threshold=1.01)  # nothing can be that sure
    message = write(brand, "Quels sont vos horaires d'ouverture ?")
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.HANDOFF, "low_confidence")


def test_a_mere_greeting_gets_a_welcome_not_a_handoff(brand):
    setup_assistant(brand)
    message = write(brand, "Bonjour !")
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.ANSWERED, "greeting")
    [welcome] = bot_messages(message.conversation_id)
    assert "advisor" in welcome.text or "conseiller" in welcome.text


def test_off_topic_question_hands_off_as_low_confidence(brand):
    setup_assistant(brand)
    message = write(brand, "Quelle est la capitale de l'Australie et combien pèse un éléphant ?")
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.HANDOFF, "low_confidence")


def test_intent_that_is_not_automatable_hands_off(brand):
    setup_assistant(brand)
    message = write(brand, "Bonjour, je voudrais prendre rendez-vous en boutique")
    job = job_of(message)
    assert (job.intent, job.outcome, job.reason) == (
        "appointment",
        Outcome.HANDOFF,
        "not_automatable",
    )
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["intent"] == "appointment"


def test_angry_customer_hands_off_with_raised_priority(brand):
    setup_assistant(brand)
    message = write(
        brand,
        "C'est scandaleux !!! Votre service est nul, je suis furieux, "
        "ma commande n'est toujours pas arrivée, c'est inadmissible !",
    )
    job = job_of(message)
    assert (job.outcome, job.reason) == (Outcome.HANDOFF, "negative_sentiment")
    assert job.sentiment < 0
    assert Conversation.objects.get(pk=message.conversation_id).priority == Priority.HIGH


def test_vip_customer_goes_to_a_person(brand):
    setup_assistant(brand)
    first = ingest_chat(brand, "Bonjour", visitor_id="b" * 32)
    customer = first.conversation.customer
    customer.is_vip = True
    customer.save(update_fields=["is_vip"])
    assert drop_queued_jobs(ANSWER_TASK) == 1  # only the next message counts
    message = write(brand, "Quels sont vos horaires d'ouverture ?", visitor="b" * 32)
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.HANDOFF, "vip")
    assert Conversation.objects.get(pk=message.conversation_id).priority == Priority.HIGH


def test_two_failures_hand_off(brand):
    setup_assistant(brand)
    first = write(brand, "Quels sont vos horaires d'ouverture ?")
    second = write(brand, "ça ne répond pas à ma question")
    assert (job_of(second).outcome, job_of(second).reason) == (Outcome.ANSWERED, "rephrase")
    third = write(brand, "that doesn't answer my question at all")
    assert (job_of(third).outcome, job_of(third).reason) == (Outcome.HANDOFF, "failed_twice")
    state = ConversationState.objects.get(conversation_id=first.conversation_id)
    assert state.failures == 2
    kinds = [entry["kind"] for entry in state.summary["history"]]
    assert kinds == ["answer", "rejected", "rephrase", "rejected"]


@pytest.mark.parametrize(
    "text", ["ça ne répond pas à ma question", "This doesn't help", "not what I asked"]
)
def test_rejections_are_recognised(text):
    assert rejects_answer(text)


def test_order_numbers_are_extracted():
    assert extract_order_number("Où est ma commande md-10482 ?") == "MD-10482"
    assert extract_order_number("commande 123456 svp") == "123456"
    assert extract_order_number("Bonjour, merci") is None


# Actions against the brand's system (a real local HTTP server)


class BrandSystem:
    """A local "brand system": records requests, answers as ``mode`` says."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[tuple[str, str]] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                system.requests.append((self.path, self.headers.get("Host", "")))
                if system.mode == "slow":
                    time.sleep(1.5)
                if system.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps(
                    {
                        "order_number": self.path.rsplit("/", 1)[-1],
                        "status": "shipped",
                        "status_fr": "expédiée",
                        "status_en": "shipped",
                        "expected_delivery": "2026-11-27",
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def brand_system():
    system = BrandSystem()
    yield system
    system.stop()


def test_order_status_action_answers_with_the_brand_system(brand, brand_system):
    setup_assistant(brand, action_base_url=brand_system.url, allow_private_addresses=True)
    message = write(brand, "Bonjour, où en est ma commande MD-10482 ?")
    job = job_of(message)
    assert (job.outcome, job.reason) == (Outcome.ANSWERED, "action"), job.reason
    assert brand_system.requests[0][0] == "/api/orders/MD-10482"
    [reply] = bot_messages(message.conversation_id)
    # The brand system's ISO date, as a French customer reads dates.
    assert "MD-10482" in reply.text and "expédiée" in reply.text
    assert "27 novembre 2026" in reply.text and "2026-11-27" not in reply.text


def test_order_dates_are_in_the_customers_language(brand, brand_system):
    setup_assistant(brand, action_base_url=brand_system.url, allow_private_addresses=True)
    message = write(brand, "Hello, where is my order MD-10483 please?")
    assert job_of(message).reason == "action"
    [reply] = bot_messages(message.conversation_id)
    assert "shipped" in reply.text and "Nov. 27, 2026" in reply.text


def test_order_number_is_asked_for_then_the_action_continues(brand, brand_system):
    setup_assistant(brand, action_base_url=brand_system.url, allow_private_addresses=True)
    first = write(brand, "Where is my order?")
    assert job_of(first).reason == "asked_order_number"
    assert not brand_system.requests
    second = write(brand, "md-55555")
    assert (job_of(second).outcome, job_of(second).reason) == (Outcome.ANSWERED, "action")
    assert brand_system.requests[0][0] == "/api/orders/MD-55555"
    last = bot_messages(first.conversation_id)[-1]
    assert "MD-55555" in last.text and "shipped" in last.text  # still in English


@pytest.mark.parametrize("mode", ["slow", "error"])
def test_action_failure_hands_off(brand, brand_system, mode):
    setup_assistant(
        brand,
        action_base_url=brand_system.url,
        allow_private_addresses=True,
        timeout_seconds=0.5,
    )
    brand_system.mode = mode
    message = write(brand, "Où en est ma commande MD-10482 ?")
    job = job_of(message)
    assert (job.outcome, job.reason) == (Outcome.HANDOFF, "action_failed")
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    [action] = [entry for entry in summary["history"] if entry["kind"] == "action"]
    assert ("timeout" if mode == "slow" else "HTTP 500") in action["error"]
    assert summary["details"]["order_number"] == "MD-10482"


# SSRF guard


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/api",
        "http://localhost:8000/api",
        "http://10.1.2.3/api",
        "http://192.168.1.10/api",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/api",
        "http://0.0.0.0/api",
    ],
)
def test_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(EndpointError, match="private or local"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True).address


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/x", "file:///etc/passwd", "http://u:p@8.8.8.8/"])
def test_only_plain_http_endpoints_are_accepted(url):
    with pytest.raises(EndpointError):
        check_url(url, allow_private=True)


def test_public_address_is_accepted():
    assert check_url("https://8.8.8.8/api", allow_private=False).address == "8.8.8.8"


def test_settings_validation_refuses_a_private_endpoint(brand):
    settings = AssistantSettings(brand=brand, action_base_url="http://127.0.0.1:9/api")
    with pytest.raises(ValidationError) as error:
        settings.full_clean()
    assert "action_base_url" in error.value.message_dict
    settings.allow_private_addresses = True
    settings.full_clean()


def test_private_endpoint_is_not_called_at_call_time_either(brand, brand_system):
    """Saved without validation (or the DNS answer changed): the call re-checks and refuses."""
    setup_assistant(brand, action_base_url=brand_system.url, allow_private_addresses=False)
    message = write(brand, "Où en est ma commande MD-10482 ?")
    assert job_of(message).reason == "action_failed"
    assert brand_system.requests == []


def test_the_call_connects_to_the_checked_address_with_the_real_host_name(brand, brand_system):
    settings = AssistantSettings(
        brand=brand,
        action_base_url=brand_system.url.replace("127.0.0.1", "localhost"),
        allow_private_addresses=True,
    )
    body = call_endpoint(settings, "orders/MD-1")
    assert body["order_number"] == "MD-1"
    assert brand_system.requests[0][1].startswith("localhost:")


# Never answers when it must not


def test_disabled_brand_gets_no_job_and_no_answer(brand):
    setup_assistant(brand, enabled=False)
    message = write(brand, "Quels sont vos horaires d'ouverture ?")
    assert not AssistantJob.objects.exists()
    assert bot_messages(message.conversation_id) == []


def test_brand_disabled_after_the_job_was_queued_is_not_answered(brand):
    settings = setup_assistant(brand)
    message = ingest_chat(brand, "Quels sont vos horaires d'ouverture ?")
    settings.enabled = False
    settings.save()
    run_pending()
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.SKIPPED, "disabled")
    assert bot_messages(message.conversation_id) == []


def test_brand_without_assistant_settings_gets_no_job(brand):
    ingest_chat(brand, "Bonjour")
    assert ANSWER_TASK not in queued_task_names()
    run_pending()
    assert not AssistantJob.objects.exists()


def test_job_is_queued_in_the_message_transaction(brand):
    setup_assistant(brand)
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest_chat(brand, "Quels sont vos horaires ?")
        # Same transaction, before commit.
        assert queued_task_names().count(ANSWER_TASK) == 1
        raise RuntimeError("rolled back")
    assert ANSWER_TASK not in queued_task_names()
    assert not Message.objects.exists()
    run_pending()
    assert not AssistantJob.objects.exists()


def test_quiet_once_an_agent_replied(brand, agent):
    setup_assistant(brand)
    first = ingest_chat(brand, "Bonjour", visitor_id="c" * 32)
    assert drop_queued_jobs(ANSWER_TASK) == 1  # only the next message counts
    send_reply(agent, first.conversation, "Bonjour, je suis Camille.")
    message = write(brand, "Quels sont vos horaires d'ouverture ?", visitor="c" * 32)
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.SKIPPED, "human_in_charge")
    assert bot_messages(message.conversation_id) == []


def test_quiet_once_assigned(brand, agent):
    setup_assistant(brand)
    first = ingest_chat(brand, "Bonjour", visitor_id="d" * 32)
    assert drop_queued_jobs(ANSWER_TASK) == 1  # only the next message counts
    assign_conversation(agent, first.conversation, agent)
    message = write(brand, "Quels sont vos horaires d'ouverture ?", visitor="d" * 32)
    assert job_of(message).reason == "human_in_charge"


def test_notes_and_agent_messages_never_make_jobs(brand, agent):
    setup_assistant(brand)
    first = ingest_chat(brand, "Bonjour")
    add_note(agent, first.conversation, "horaires d'ouverture ?")
    send_reply(agent, first.conversation, "Quels sont vos horaires d'ouverture ?")
    assert queued_task_names().count(ANSWER_TASK) == 1
    run_pending()
    assert list(AssistantJob.objects.values_list("message_id", flat=True)) == [first.pk]


def test_phone_transcript_is_classified_never_answered(brand):
    setup_assistant(brand)
    message = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.PHONE,
            external_id="call-1:transcript",
            text="Bonjour, je voudrais savoir où en est ma commande, merci",
            identities=[IdentityClaim(IdentityKind.PHONE, "+33612345678")],
        )
    ).message
    run_pending()
    job = job_of(message)
    assert (job.outcome, job.intent) == (Outcome.CLASSIFIED, "order_tracking")
    assert Message.objects.filter(conversation_id=message.conversation_id).count() == 1


def call_report(kind: str, event_id: str, **extra) -> CallEvent:
    return CallEvent(
        provider="generic",
        call_id="call-7",
        kind=kind,
        occurred_at=timezone.now(),
        event_id=event_id,
        direction=Direction.INBOUND,
        from_number="+33612345678",
        to_number="+33180000001",
        **extra,
    )


def test_a_call_transcript_goes_the_way_of_a_written_message(brand):
    """Same "message.created" event as an ingested message, one job, classified, never answered."""
    phone = [IdentityClaim(IdentityKind.PHONE, "+33612345678")]
    ingest_chat(brand, "Bonjour", extra_identities=phone)
    written = ingest_chat(brand, "Je vous appelle", extra_identities=phone)
    setup_assistant(brand)  # after the chat: the transcript's is the one job
    record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
    text = "Bonjour, je voudrais savoir où en est ma commande, merci"
    record_call_event(brand, call_report(CallEventKind.TRANSCRIPT, "t1", transcript=text))
    said = Message.objects.get(channel=Channel.PHONE, author_kind=AuthorKind.CUSTOMER)
    assert said.conversation_id == written.conversation_id and said.text == text

    def created(message: Message) -> Event:
        return Event.objects.get(kind="message.created", payload__id=message.pk)

    written_event, said_event = created(written), created(said)
    assert set(said_event.payload) == set(written_event.payload)
    assert set(said_event.payload["conversation"]) == set(written_event.payload["conversation"])
    said_payload = said_event.payload
    assert (said_payload["author_kind"], said_payload["direction"]) == ("customer", "in")
    assert said_payload["text"] == text
    assert said_event.customer_id == written_event.customer_id
    run_pending()
    job = job_of(said)
    assert (job.outcome, job.reason, job.intent) == (
        Outcome.CLASSIFIED,
        "not_answered_channel",
        "order_tracking",
    )
    assert bot_messages(said.conversation_id) == []
    # A corrected transcript replaces the text: an update, not a second message nor a second job.
    record_call_event(brand, call_report(CallEventKind.TRANSCRIPT, "t2", transcript="Rappelez-moi"))
    said.refresh_from_db()
    assert said.text == "Rappelez-moi"
    assert Event.objects.filter(kind="message.updated", payload__id=said.pk).count() == 1
    assert AssistantJob.objects.filter(message__channel=Channel.PHONE).count() == 1


# What agents see


def test_agent_sees_the_summary_at_the_top_of_the_conversation(brand, agent_client, brand_system):
    setup_assistant(brand, action_base_url=brand_system.url, allow_private_addresses=True)
    brand_system.mode = "error"
    message = write(brand, "Où en est ma commande MD-10482 ?")
    page = agent_client.get(reverse("console:conversation", args=[message.conversation_id]))
    html = page.content.decode()
    assert 'id="assistant-summary"' in html
    assert html.index('id="assistant-summary"') < html.index('id="timeline"')
    assert "MD-10482" in html and "HTTP 500" in html
    assert "The brand system did not answer." in html or "système" in html


def test_summary_escapes_customer_text(brand, agent_client):
    setup_assistant(brand)
    message = write(brand, "conseiller <script>window.x=1</script> MD-4444")
    page = agent_client.get(reverse("console:thread_fragment", args=[message.conversation_id]))
    assert b'id="assistant-summary"' in page.content
    assert b"<script>window.x=1</script>" not in page.content
    assert b"&lt;script&gt;window.x=1&lt;/script&gt;" in page.content


def test_agent_assist_suggests_the_intent_answer_and_passages(brand, agent_client):
    setup_assistant(brand)
    engine.warm_up()  # as a server does at start (else the first answer is "loading")
    message = ingest_chat(brand, "Comment retourner un article et être remboursé ?")
    response = agent_client.get(reverse("assistant:assist", args=[message.conversation_id]))
    assert response.status_code == 200
    data = response.json()
    assert data["language"] == "fr"
    assert data["passages"] and "30 jours" in data["passages"][0]["text"]
    message = ingest_chat(brand, "What are your opening hours?")
    data = agent_client.get(reverse("assistant:assist", args=[message.conversation_id])).json()
    assert "Monday to Saturday" in data["suggestions"][0]["text"]


def test_agent_assist_of_another_brand_is_not_found(brand, outsider_client):
    message = ingest_chat(brand, "Bonjour")
    response = outsider_client.get(reverse("assistant:assist", args=[message.conversation_id]))
    assert response.status_code == 404


# Training and measurement


def test_changing_intents_retrains_in_the_background(brand):
    settings = setup_assistant(brand)
    before = TrainedModel.objects.get(brand=brand).trained_at
    engine.classifier_for(brand.pk)
    intent = Intent.objects.get(brand=brand, name="opening_hours")
    intent.training_phrases_fr = [*intent.training_phrases_fr, "La boutique de Lyon est ouverte ?"]
    with transaction.atomic():  # what the console, the API and the Django admin do
        intent.save()
        configure.object_changed(intent)
    model = TrainedModel.objects.get(brand=brand)
    assert model.requested_at is not None and model.trained_at == before
    run_pending()
    model = TrainedModel.objects.get(brand=brand)
    assert model.requested_at is None and model.trained_at > before
    assert engine.classifier_for(brand.pk) is engine._classifiers[brand.pk][1]
    assert engine._classifiers[brand.pk][0] == model.trained_at
    assert settings.enabled


def test_demo_order_endpoint_is_deterministic(client):
    first = client.get(reverse("assistant:demo_order", args=["MD-10482"])).json()
    assert first == client.get(reverse("assistant:demo_order", args=["md-10482"])).json()
    assert first["order_number"] == "MD-10482" and first["status_fr"]
    assert client.get(reverse("assistant:demo_order", args=["NOPE-1"])).status_code == 404


def test_containment_and_handoff_rates(brand, other_brand):
    setup_assistant(brand)
    write(brand, "Quels sont vos horaires d'ouverture ?", visitor="1" * 32)  # contained
    write(brand, "What are your opening hours?", visitor="2" * 32)  # contained
    write(brand, "conseiller", visitor="3" * 32)  # handed off
    write(brand, "Quels sont vos horaires d'ouverture ?", visitor="4" * 32)
    write(brand, "ça ne répond pas à ma question", visitor="4" * 32)
    write(brand, "not what I asked", visitor="4" * 32)  # answered, then handed off
    now = timezone.now()
    rates = assistant_rates(brand.pk, now - timedelta(hours=1), now + timedelta(seconds=1))
    assert (rates.conversations, rates.contained, rates.handed_off) == (4, 2, 2)
    assert rates.containment_rate == 0.5 and rates.handoff_rate == 0.5
    assert sorted(rates.handoff_reasons) == [("asked_for_human", 1), ("failed_twice", 1)]
    assert assistant_rates(other_brand.pk, now - timedelta(hours=1), now).conversations == 0
    assert (
        assistant_rates(brand.pk, now - timedelta(days=2), now - timedelta(days=1)).conversations
        == 0
    )


def test_ingest_adds_no_query_for_a_brand_without_assistant(brand, django_assert_num_queries):
    ingest_chat(brand, "warm up", visitor_id="e" * 32)
    with django_assert_num_queries(6):
        ingest_chat(brand, "again", visitor_id="e" * 32)


def test_a_chat_message_creates_one_job(brand):
    setup_assistant(brand)
    inbound = chat_message(brand, "Bonjour")
    ingest_message(inbound)
    ingest_message(inbound)  # redelivery: same message, no second job
    assert queued_task_names().count(ANSWER_TASK) == 1
    run_pending()
    assert AssistantJob.objects.count() == 1


def test_channel_the_brand_keeps_for_people_is_classified_only(brand):
    setup_assistant(brand, answer_channels=["email"])
    message = write(brand, "Quels sont vos horaires d'ouverture ?")
    assert (job_of(message).outcome, job_of(message).intent) == (
        Outcome.CLASSIFIED,
        "opening_hours",
    )
    assert bot_messages(message.conversation_id) == []


# In a real browser: the agent opens the handed-off conversation and reads the summary.

BROWSER_HANDOFF = """
import json
from comptoir.tasks import run_pending
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.tenancy.models import Brand
message = ingest_message(InboundMessage(
    brand=Brand.objects.get(slug="maison-demo"), channel="webchat", external_id="assistant-e2e-1",
    text="Bonjour, ma commande MD-20931 n'avance pas, je veux parler à un conseiller",
    identities=[IdentityClaim("chat_visitor", "ab" * 16)], display_name="Inès Laurent",
)).message
run_pending()
print(json.dumps({"conversation": message.conversation_id}))
"""


@pytest.mark.browser
@pytest.mark.live
def test_agent_reads_the_handoff_summary_in_the_console(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.live_server import Site
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, SERVER_WAIT

    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    conversation = site.python(BROWSER_HANDOFF)["conversation"]
    server = site.start_server()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
            page.goto(f"{server}/console/login/")
            page.fill("input[name=username]", "camille")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{server}/console/c/{conversation}/")
            card = page.locator("#assistant-summary")
            expect(card).to_be_visible()
            expect(card).to_contain_text("The customer asked for a person.")
            expect(card).to_contain_text("MD-20931")
            # Above the timeline: the first thing the agent reads.
            card_box = card.bounding_box()
            assert card_box["y"] < page.locator("#timeline").bounding_box()["y"]
            expect(page.locator(".message--bot").first).to_be_visible()
            # Agent assist: open the panel, insert a suggestion into the reply box. The
            # server may still be loading its models (the panel says so meanwhile).
            page.locator("#assistant-assist summary").click()
            insert = page.locator("#assistant-assist [data-assist-insert]").first
            expect(insert).to_be_visible(timeout=SERVER_WAIT)
            insert.click()
            expect(page.locator("#composer-text")).not_to_have_value("")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "console-assistant-summary.png", full_page=True)
            browser.close()
    finally:
        site.stop()


DEMO_ORDER_QUESTION = """
import json
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.tenancy.models import Brand
message = ingest_message(InboundMessage(
    brand=Brand.objects.get(slug="maison-demo"), channel="webchat", external_id="assistant-live-1",
    text="Bonjour, où en est ma commande MD-10482 ?",
    identities=[IdentityClaim("chat_visitor", "cd" * 16)],
)).message
print(json.dumps({"conversation": message.conversation_id}))
"""

# The worker's first round trains the demo brand's model and loads the language models
# before answering: seconds alone, minutes on a busy 2-core machine. Only a cap on
# waiting for the answer, which is checked for until it is there.
FIRST_ANSWER_SECONDS = 300

BOT_REPLIES = """
import json
from comptoir.conversations.models import Message
replies = Message.objects.filter(conversation_id=%d, author_kind="bot", is_internal_note=False)
print(json.dumps({"texts": list(replies.values_list("text", flat=True))}))
"""


@pytest.mark.live
def test_demo_answers_order_status_through_the_worker_and_its_own_order_system(tmp_path):
    """``serve --worker`` runs the assistant's round; the demo action calls /demo/api/orders/."""
    from tests.live_server import Site, free_port

    port = free_port()
    # As `make demo` does: the operator lets the assistant call the demo shop on 127.0.0.1
    # (load_demo leaves the brand's allow_private_addresses off).
    site = Site(tmp_path, extra_env={"ASSISTANT_PRIVATE_ORIGINS": f"http://127.0.0.1:{port}"})
    site.manage("migrate", "--no-input")
    site.manage("load_demo", "--base-url", f"http://127.0.0.1:{port}")
    site.start_server(port=port, options=("--worker",))
    try:
        conversation = site.python(DEMO_ORDER_QUESTION)["conversation"]
        deadline = time.monotonic() + FIRST_ANSWER_SECONDS
        texts: list[str] = []
        while time.monotonic() < deadline and not texts:
            time.sleep(0.5)
            texts = site.python(BOT_REPLIES % conversation)["texts"]
        assert texts, "the worker did not answer"
        assert "MD-10482" in texts[0] and "Colissimo" in texts[0], texts
    finally:
        site.stop()


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; SKIP LOCKED is tested here"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_answer_each_message_once():
    brand = make_brand("Concurrent")
    setup_assistant(brand)
    messages = [
        ingest_chat(brand, "Quels sont vos horaires d'ouverture ?", visitor_id=f"{n:032x}")
        for n in range(24)
    ]
    workers = 3
    barrier = threading.Barrier(workers)
    errors: list[Exception] = []

    def worker() -> None:
        try:
            barrier.wait()
            while run_pending(limit=2):
                pass
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for message in messages:
        assert len(bot_messages(message.conversation_id)) == 1
    assert set(AssistantJob.objects.values_list("outcome", flat=True)) == {Outcome.ANSWERED}


@pytest.mark.browser
@pytest.mark.live
def test_the_widget_shows_the_assistants_answer_as_the_assistants(tmp_path):
    """Widget → ingest → worker → assistant → event → widget, in Chromium, on the demo."""
    from playwright.sync_api import expect, sync_playwright

    from tests.live_server import Site
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server(options=("--worker",))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
            page.goto(f"{server}/demo/")
            page.get_by_test_id("comptoir-launcher").click()
            page.get_by_test_id("comptoir-input").fill("Vous êtes ouverts le dimanche ?")
            page.get_by_test_id("comptoir-send").click()
            answer = page.locator('[data-testid="comptoir-message"][data-author="bot"]')
            expect(answer.first).to_be_visible(timeout=FIRST_ANSWER_SECONDS * 1000)
            expect(answer.first).to_contain_text("Assistant automatique")
            expect(answer.first).to_contain_text("dimanche")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "widget-assistant.png")
            browser.close()
    finally:
        site.stop()
