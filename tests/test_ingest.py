import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comptoir.conversations.actions import (
    add_note,
    reopen_conversation,
    resolve_conversation,
    send_reply,
)
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import (
    Attachment,
    Channel,
    Contact,
    Conversation,
    Message,
    Status,
)
from comptoir.conversations.state import ConversationStateError
from comptoir.customers.models import Customer, DuplicateProposal, Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.routing.assignment import assign_conversation
from tests.factories import chat_message, ingest_chat, make_agent, make_brand


def test_first_message_creates_customer_conversation_contact_and_event(
    brand, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ingest_message(chat_message(brand, "Bonjour, où est ma commande ?"))
    assert result.created
    message = result.message
    conversation = message.conversation
    assert conversation.status == Status.OPEN
    assert conversation.customer.identities.get().kind == IdentityKind.CHAT_VISITOR
    assert message.contact.channel == "webchat"
    event = Event.objects.get()
    assert event.kind == "conversation.created"
    assert event.payload["text"] == "Bonjour, où est ma commande ?"
    assert event.customer_payload["text"] == "Bonjour, où est ma commande ?"
    assert len(callbacks) == 1, "publication waits for the commit"


def test_retried_delivery_is_a_no_op(brand):
    inbound = chat_message(brand, "hello")
    first = ingest_message(inbound)
    second = ingest_message(inbound)
    assert not second.created
    assert second.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Event.objects.count() == 1


def test_same_external_id_in_another_brand_is_another_message(brand, other_brand):
    ingest_message(chat_message(brand, "a", visitor_id="0" * 32, external_id="x"))
    result = ingest_message(chat_message(other_brand, "b", visitor_id="0" * 32, external_id="x"))
    assert result.created
    assert result.message.brand == other_brand


def test_second_message_threads_into_the_open_conversation(brand):
    first = ingest_chat(brand, "one", visitor_id="a" * 32)
    second = ingest_chat(brand, "two", visitor_id="a" * 32)
    assert second.conversation_id == first.conversation_id
    assert second.contact_id == first.contact_id
    assert Customer.objects.count() == 1


def test_message_after_resolution_opens_a_new_conversation(brand, agent):
    first = ingest_chat(brand, "one", visitor_id="a" * 32)
    resolve_conversation(agent, first.conversation)
    second = ingest_chat(brand, "two", visitor_id="a" * 32)
    assert second.conversation_id != first.conversation_id
    assert second.conversation.customer_id == first.conversation.customer_id


def test_card_numbers_are_masked_before_storage_and_events(brand):
    message = ingest_chat(
        brand,
        "ma carte 4539 1488 0343 6467",
        attachments=[InboundAttachment("carte 4111111111111111.png", "image/png", b"\x89PNG")],
    )
    assert "4539 14** **** 6467" in message.text
    assert Attachment.objects.get().filename == "carte 411111******1111.png"
    stored = repr(list(Event.objects.values_list("payload", "customer_payload")))
    assert "4539 1488 0343 6467" not in stored
    assert "4111111111111111" not in stored


def test_known_email_joins_the_same_customer_across_channels(brand):
    first = ingest_chat(
        brand, "chat", extra_identities=[IdentityClaim(IdentityKind.EMAIL, "Marie@Exemple.FR")]
    )
    inbound = chat_message(brand, "mail")
    inbound.channel = "email"
    inbound.identities = [IdentityClaim(IdentityKind.EMAIL, "marie@exemple.fr")]
    second = ingest_message(inbound).message
    assert second.conversation.customer_id == first.conversation.customer_id
    assert Identity.objects.filter(kind="email").get().value == "marie@exemple.fr"


def test_reply_note_assign_resolve_reopen(brand, agent, colleague):
    conversation = ingest_chat(brand, "hello").conversation
    reply = send_reply(agent, conversation, "Bonjour, je regarde.")
    note = add_note(agent, conversation, "client fidèle")
    conversation.refresh_from_db()
    assert conversation.first_response_at == reply.created_at
    assert Contact.objects.get().first_response_at == reply.created_at

    reply_event, note_event = Event.objects.filter(kind="message.created").order_by("id")
    assert reply_event.customer_payload["text"] == "Bonjour, je regarde."
    assert reply_event.customer_payload["author_name"] == "Camille"
    assert note_event.payload["is_internal_note"] is True
    assert note_event.customer_payload is None, "notes never reach the customer"
    assert not note.contact_id

    assign_conversation(agent, conversation, colleague)
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    assert Event.objects.filter(kind="conversation.updated").last().customer_payload is None, (
        "who handles the conversation is not the customer's business"
    )

    resolve_conversation(agent, conversation)
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.resolved_at
    assert Event.objects.filter(kind="conversation.updated").last().customer_payload == {
        "id": conversation.pk,
        "status": "resolved",
    }
    assert Contact.objects.get().ended_at is not None
    with pytest.raises(ConversationStateError):
        send_reply(agent, conversation, "too late")
    with pytest.raises(ConversationStateError):
        resolve_conversation(agent, conversation)
    reopen_conversation(agent, conversation)
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.resolved_at is None


def test_assigning_to_an_agent_of_another_brand_is_refused(brand, agent, outsider):
    conversation = ingest_chat(brand).conversation
    with pytest.raises(ConversationStateError):
        assign_conversation(agent, conversation, outsider)
    assert Conversation.objects.get().assignee is None


def test_empty_reply_is_refused(brand, agent):
    conversation = ingest_chat(brand).conversation
    with pytest.raises(ConversationStateError):
        send_reply(agent, conversation, "   ")


def test_ingest_query_count_is_bounded(brand):
    ingest_chat(brand, "warm up", visitor_id="b" * 32)
    with CaptureQueriesContext(connection) as queries:
        ingest_chat(brand, "again", visitor_id="b" * 32)
    # savepoint; customer + open conversation + contact in one lookup; insert message;
    # touch conversation; insert event; release savepoint
    assert len(queries) <= 6, [q["sql"] for q in queries]


def test_pending_conversation_reopens_when_the_customer_writes(brand):
    first = ingest_chat(brand, "one", visitor_id="e" * 32)
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.PENDING)
    second = ingest_chat(brand, "two", visitor_id="e" * 32)
    assert second.conversation_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Status.OPEN


def test_name_and_new_identities_are_added_to_a_known_customer(brand):
    first = ingest_chat(brand, "one", visitor_id="f" * 32)
    inbound = chat_message(
        brand,
        "two",
        visitor_id="f" * 32,
        extra_identities=[IdentityClaim(IdentityKind.EMAIL, "Paul@Exemple.fr")],
    )
    inbound.display_name = "Paul Durand"
    second = ingest_message(inbound).message
    customer = Customer.objects.get()
    assert second.conversation.customer_id == first.conversation.customer_id == customer.pk
    assert customer.display_name == "Paul Durand"
    assert set(customer.identities.values_list("kind", "value")) == {
        ("chat_visitor", "f" * 32),
        ("email", "paul@exemple.fr"),
    }


postgresql_only = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serialises writers; its shared-cache test database reports table locks",
)


def send_at_once(brand, visitor_id: str, count: int = 8) -> list[Exception]:
    """``count`` messages of one visitor, released together from as many threads."""
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def send(n: int) -> None:
        try:
            barrier.wait()
            ingest_chat(brand, f"message {n}", visitor_id=visitor_id)
        except Exception as exc:  # reported by the caller with the others
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_messages_of_one_visitor_make_one_customer():
    brand = make_brand()
    assert send_at_once(brand, "9" * 32) == []
    assert Customer.objects.filter(brand=brand).count() == 1
    assert Conversation.objects.filter(brand=brand).count() == 1
    assert Message.objects.filter(brand=brand).count() == 8


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_of_a_returning_customer_open_one_conversation():
    brand = make_brand()
    first = ingest_chat(brand, "last week", visitor_id="8" * 32)
    resolve_conversation(make_agent(brand), first.conversation)
    assert send_at_once(brand, "8" * 32) == []
    assert Conversation.objects.filter(brand=brand, status=Status.OPEN).count() == 1
    assert Contact.objects.filter(brand=brand, ended_at__isnull=True).count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_message_arriving_while_an_agent_resolves_opens_a_new_conversation(monkeypatch):
    """An agent resolves between the look-up and the write: the message is not lost in it."""
    from comptoir.conversations import ingest

    brand = make_brand()
    agent = make_agent(brand)
    first = ingest_chat(brand, "bonjour", visitor_id="d" * 32)
    original_lookup = ingest.find_customer_threads
    calls = []

    def lookup_while_an_agent_resolves(*args, **kwargs):
        known = original_lookup(*args, **kwargs)
        if not calls:  # the agent's resolve commits from another connection, once
            resolving = threading.Thread(
                target=lambda: (
                    resolve_conversation(agent, first.conversation),
                    connections.close_all(),
                )
            )
            resolving.start()
            resolving.join()
        calls.append(known)
        return known

    monkeypatch.setattr(ingest, "find_customer_threads", lookup_while_an_agent_resolves)
    second = ingest_chat(brand, "vous êtes là ?", visitor_id="d" * 32)

    assert Conversation.objects.get(pk=first.conversation_id).status == Status.RESOLVED
    assert second.conversation_id != first.conversation_id
    assert Conversation.objects.get(pk=second.conversation_id).status == Status.OPEN
    assert Message.objects.filter(conversation_id=first.conversation_id).count() == 1


def test_a_message_the_channel_dates_earlier_never_moves_the_inbox_order_back(brand):
    first = ingest_chat(brand, "Bonjour", visitor_id="5f0c2a5e9d1b4c7a8e6f3d2b1a0c9e8d")
    conversation = Conversation.objects.get(pk=first.conversation_id)
    delayed = chat_message(
        brand, "Envoyé hors ligne hier", visitor_id="5f0c2a5e9d1b4c7a8e6f3d2b1a0c9e8d"
    )
    delayed.received_at = timezone.now() - timedelta(days=1)
    message = ingest_message(delayed).message
    assert message.conversation_id == conversation.pk
    assert message.created_at == delayed.received_at  # shown when it was written
    refreshed = Conversation.objects.get(pk=conversation.pk)
    assert refreshed.last_message_at == conversation.last_message_at


def test_a_message_dated_in_the_future_is_stored_as_arriving_now(brand):
    skewed = chat_message(brand, "Horloge en avance")
    skewed.received_at = timezone.now() + timedelta(days=365)
    message = ingest_message(skewed).message
    assert message.created_at <= timezone.now()
    assert Conversation.objects.get(pk=message.conversation_id).last_message_at <= timezone.now()


def _mail_from(brand, address: str, external_id: str):
    return ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id=external_id,
            text="Bonjour, c'est bien moi.",
            identities=[IdentityClaim(IdentityKind.EMAIL, address, verified=True)],
            display_name="Vraie Propriétaire",
        )
    ).message


def test_the_owner_of_an_address_a_visitor_only_typed_gets_their_own_file(brand):
    """A visitor types someone's address in the chat; the owner's mail must not join the visitor."""
    visitor_message = ingest_chat(
        brand,
        "Bonjour",
        extra_identities=[IdentityClaim(IdentityKind.EMAIL, "owner@example.org")],
    )
    visitor = visitor_message.conversation.customer
    assert visitor.identities.filter(kind=IdentityKind.EMAIL, verified=False).exists()

    owner_mail = _mail_from(brand, "owner@example.org", "owner.1@example.org")
    owner = owner_mail.conversation.customer
    assert owner.pk != visitor.pk
    assert owner_mail.conversation_id != visitor_message.conversation_id
    identity = Identity.objects.get(kind=IdentityKind.EMAIL, value="owner@example.org")
    assert (identity.customer_id, identity.verified) == (owner.pk, True)
    assert not visitor.identities.filter(kind=IdentityKind.EMAIL).exists()
    proposal = DuplicateProposal.objects.get()
    assert {proposal.customer_a_id, proposal.customer_b_id} == {visitor.pk, owner.pk}
    assert proposal.reasons[0]["code"] == "claimed_identity"

    # The owner's next mail joins their own file, nothing more moves.
    again = _mail_from(brand, "owner@example.org", "owner.2@example.org")
    assert again.conversation_id == owner_mail.conversation_id
    assert DuplicateProposal.objects.count() == 1


def test_an_unverified_claim_still_joins_the_customer_who_typed_it(brand):
    first = ingest_chat(
        brand, "Bonjour", extra_identities=[IdentityClaim(IdentityKind.PHONE, "+33612345678")]
    )
    call = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.PHONE,
            external_id="call-1",
            text="Transcription",
            identities=[IdentityClaim(IdentityKind.PHONE, "+33612345678")],
        )
    ).message
    assert call.conversation.customer_id == first.conversation.customer_id
    assert not DuplicateProposal.objects.exists()
