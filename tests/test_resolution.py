"""The one resolver of who is writing (``customers.resolution``), as every caller gets it."""

import pytest
from django.db import transaction

from comptoir.conversations import ingest
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message, open_contact
from comptoir.conversations.models import Channel, Conversation
from comptoir.customers.identities import InvalidIdentity
from comptoir.customers.models import Customer, DuplicateProposal, Identity, IdentityKind
from comptoir.customers.resolution import normalise_claims, resolve_customer
from tests.factories import ingest_chat


def test_claims_are_normalised_strongest_first_and_counted_once(brand):
    claims = [
        IdentityClaim(IdentityKind.PHONE, "06 12 34 56 78"),
        IdentityClaim(IdentityKind.EMAIL, "not an address"),
        IdentityClaim(IdentityKind.EMAIL, "Lea@Exemple.fr"),
        IdentityClaim(IdentityKind.PHONE, "+33 6 12 34 56 78", verified=True),
    ]
    assert normalise_claims(claims, brand) == [
        (IdentityKind.PHONE, "+33612345678", True),
        (IdentityKind.EMAIL, "lea@exemple.fr", False),
    ]


def test_one_number_in_two_spellings_makes_one_identity(brand):
    message = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.PHONE,
            external_id="call-1:transcript",
            text="Bonjour",
            identities=[
                IdentityClaim(IdentityKind.PHONE, "06 12 34 56 78"),
                IdentityClaim(IdentityKind.PHONE, "+33612345678"),
            ],
        )
    ).message
    identity = Identity.objects.get()
    assert (identity.customer_id, identity.value) == (
        message.conversation.customer_id,
        "+33612345678",
    )


def test_a_new_customer_s_identities_are_written_in_key_order(brand):
    """Two writers claiming the same keys insert them in one order, never crosswise."""
    customer = resolve_customer(
        brand,
        [
            IdentityClaim(IdentityKind.PHONE, "06 12 34 56 78"),
            IdentityClaim(IdentityKind.CHAT_VISITOR, "a" * 32, verified=True),
            IdentityClaim(IdentityKind.EMAIL, "lea@exemple.fr"),
        ],
    )
    written = list(customer.identities.order_by("pk").values_list("kind", flat=True))
    assert written == sorted(written) == ["chat_visitor", "email", "phone"]


def test_a_customer_created_meanwhile_by_another_writer_is_found_not_duplicated(brand, monkeypatch):
    """The look-up missed a customer another writer was creating: the clash, then a retry."""
    first = ingest_chat(brand, visitor_id="c" * 32)
    real_lookup = ingest.find_customer_threads
    looked_up = []

    def stale_once(brand_id, keys, channel):
        looked_up.append(keys)
        return [] if len(looked_up) == 1 else real_lookup(brand_id, keys, channel)

    monkeypatch.setattr(ingest, "find_customer_threads", stale_once)
    second = ingest_chat(brand, "encore moi", visitor_id="c" * 32)

    assert len(looked_up) == 2, "the uniqueness clash ran the transaction once more"
    assert Customer.objects.filter(brand=brand).count() == 1
    assert second.conversation_id == first.conversation_id


def test_without_a_usable_claim_nobody_is_created(brand):
    with pytest.raises(InvalidIdentity):
        resolve_customer(brand, [IdentityClaim(IdentityKind.EMAIL, "personne")])
    assert not Customer.objects.exists()


def test_the_widget_s_resolver_gives_a_proven_identity_to_its_owner_as_ingest_does(brand):
    """One rule everywhere: an address a visitor only typed goes to whoever proves it."""
    visitor = ingest_chat(
        brand, extra_identities=[IdentityClaim(IdentityKind.EMAIL, "owner@example.org")]
    ).conversation.customer

    owner = resolve_customer(
        brand, [IdentityClaim(IdentityKind.EMAIL, "owner@example.org", verified=True)]
    )

    assert owner.pk != visitor.pk
    identity = Identity.objects.get(kind=IdentityKind.EMAIL)
    assert (identity.customer_id, identity.verified) == (owner.pk, True)
    proposal = DuplicateProposal.objects.get()
    assert {proposal.customer_a_id, proposal.customer_b_id} == {visitor.pk, owner.pk}


def test_a_call_opens_its_contact_on_the_caller_s_open_conversation(brand):
    conversation = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id="mail-1",
            text="Bonjour",
            identities=[IdentityClaim(IdentityKind.PHONE, "06 12 34 56 78")],
        )
    ).message.conversation
    with transaction.atomic():
        opened = open_contact(
            brand,
            [IdentityClaim(IdentityKind.PHONE, "+33612345678")],
            Channel.PHONE,
            "in",
            display_name="Léa Moreau",
        )
    assert not opened.conversation_created
    assert opened.contact.conversation_id == conversation.pk
    customer = Customer.objects.get()
    assert customer.display_name == "Léa Moreau", "a nameless caller gets the name the call gives"
    assert Conversation.objects.count() == 1
