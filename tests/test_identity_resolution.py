"""Identity resolution: normalisation, matching, duplicate proposals, merge and unmerge."""

import threading
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.urls import reverse

from comptoir.conversations.actions import send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel, Conversation
from comptoir.customers.actions import (
    CustomerActionError,
    add_identity,
    record_consent,
    remove_identity,
)
from comptoir.customers.duplicates import Profile, detect, propose_duplicates
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.listeners import look_for_duplicates
from comptoir.customers.merging import MergeRefused, merge_customers, unmerge
from comptoir.customers.models import (
    Consent,
    Customer,
    DuplicateProposal,
    Identity,
    IdentityKind,
    MergeRecord,
    ProposalStatus,
)
from comptoir.customers.resolution import resolve_customer
from comptoir.events.models import Event
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role
from comptoir.widget.tokens import issue_visitor_token
from tests.factories import WS_TIMEOUT, ingest_chat, make_agent, make_brand
from tests.task_helpers import queued_task_names

# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "Jean@Exämple.FR", "jean@xn--exmple-cua.fr"),
        ("email", "jean@xn--exmple-cua.fr", "jean@xn--exmple-cua.fr"),
        ("email", "Jean Dupont <JEAN@Exemple.fr>", "jean@exemple.fr"),
        ("email", "mailto:Lea@Exemple.fr.", "lea@exemple.fr"),
        ("phone", "06 12 34 56 78", "+33612345678"),
        ("whatsapp", "+33 6 12 34 56 78", "33612345678"),
        ("messenger", " 2484920184711253 ", "2484920184711253"),
        ("customer_number", " ab 123-x ", "AB123-X"),
        ("chat_visitor", "C" * 32, "c" * 32),
    ],
)
def test_every_kind_of_claim_is_normalised(kind, raw, expected):
    assert normalise_identity(kind, raw, region="FR") == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", "jean@"),
        ("email", "no at sign"),
        ("whatsapp", "+33 six"),
        ("whatsapp", "123"),
        ("messenger", "abc"),
        ("customer_number", "   "),
        ("customer_number", "A B/<script>"),
        # A card number is never stored as an identity (it would escape PAN masking).
        ("customer_number", "4111 1111 1111 1111"),
        ("customer_number", "5555-5555-5555-4444"),
        ("twitter", "@jean"),
    ],
)
def test_impossible_claims_are_refused(kind, raw):
    with pytest.raises(InvalidIdentity):
        normalise_identity(kind, raw)


def test_a_huge_email_claim_is_refused_quickly():
    started = time.process_time()  # CPU time: a busy machine does not stretch it
    with pytest.raises(InvalidIdentity):
        normalise_identity("email", "a@" + "." * 30_000 + "@x")
    assert time.process_time() - started < 1


def inbound(brand, channel, claims, text="Bonjour") -> InboundMessage:
    return InboundMessage(
        brand=brand,
        channel=channel,
        external_id=uuid.uuid4().hex,
        text=text,
        identities=claims,
    )


def test_unicode_and_punycode_addresses_are_one_customer(brand):
    first = ingest_message(
        inbound(brand, Channel.EMAIL, [IdentityClaim("email", "Jean@Exämple.FR", True)])
    ).message
    second = ingest_message(
        inbound(brand, Channel.API, [IdentityClaim("email", "jean@xn--exmple-cua.fr")])
    ).message
    assert first.conversation.customer_id == second.conversation.customer_id


def test_a_verified_identity_joins_the_customer_on_any_channel(brand):
    mail = ingest_message(
        inbound(brand, Channel.EMAIL, [IdentityClaim("email", "lea@exemple.fr", True)])
    ).message
    # She calls: the call adapter knows her number and the e-mail she gives.
    call = ingest_message(
        inbound(
            brand,
            Channel.PHONE,
            [IdentityClaim("phone", "06 11 22 33 44"), IdentityClaim("email", "LEA@exemple.fr")],
        )
    ).message
    whatsapp = ingest_message(
        inbound(
            brand,
            Channel.WHATSAPP,
            [
                IdentityClaim("whatsapp", "33611223344", True),
                IdentityClaim("phone", "+33611223344"),
            ],
        )
    ).message
    customers = {m.conversation.customer_id for m in (mail, call, whatsapp)}
    assert len(customers) == 1
    kinds = set(Customer.objects.get().identities.values_list("kind", flat=True))
    assert kinds == {"email", "phone", "whatsapp"}


def test_a_verified_match_wins_over_an_unverified_one(brand):
    typed = resolve_customer(brand, [IdentityClaim("phone", "06 11 22 33 44")])  # unverified
    proven = resolve_customer(brand, [IdentityClaim("whatsapp", "33699887766", True)])
    claims = [
        IdentityClaim("phone", "06 11 22 33 44"),
        IdentityClaim("whatsapp", "33699887766", True),
    ]
    message = ingest_message(inbound(brand, Channel.WHATSAPP, claims)).message
    assert message.conversation.customer_id == proven.pk != typed.pk
    assert resolve_customer(brand, claims).pk == proven.pk


# --- duplicate detection (pure) ------------------------------------------------------------


def pairs(profiles, **kwargs) -> dict[tuple[int, int], list[str]]:
    return {(c.a, c.b): [r.code for r in c.reasons] for c in detect(profiles, **kwargs)}


def test_the_same_number_as_phone_and_whatsapp_is_proposed():
    found = pairs(
        [
            Profile(1, "Jean Dupont", phones=("+33612345678",)),
            Profile(2, "", phones=("33612345678",)),
        ]
    )
    assert found == {(1, 2): ["same_phone"]}


def test_same_name_and_similar_email_at_the_same_domain():
    found = pairs(
        [
            Profile(1, "Léa Martin", emails=("lea.martin@orange.fr",)),
            Profile(2, "lea  MARTIN", emails=("lea.matrin@orange.fr",)),
            Profile(3, "Léa Martin", emails=("lea.matrin@free.fr",)),
        ]
    )
    assert found[(1, 2)] == ["same_name_similar_email"]
    assert (1, 3) not in found  # another domain: another mailbox


def test_same_name_and_phones_ending_alike():
    found = pairs(
        [
            Profile(1, "Paul Durand", phones=("+33612345678",)),
            Profile(2, "Paul Durand", phones=("+262612345678",)),
        ]
    )
    assert found == {(1, 2): ["same_name_similar_phone"]}


def test_gmail_and_googlemail_spellings_are_one_mailbox():
    found = pairs(
        [
            Profile(1, "", emails=("jean.dupont@gmail.com",)),
            Profile(2, "", emails=("jeandupont+shop@googlemail.com",)),
        ]
    )
    assert found == {(1, 2): ["gmail_alias"]}


def test_first_and_last_name_swapped_are_recognised_and_said():
    candidates = detect(
        [
            Profile(1, "Martin Sophie", phones=("+33612345678",)),
            Profile(2, "Sophie Martin", phones=("+33712345678",)),
        ]
    )
    assert [r.code for r in candidates[0].reasons] == ["same_name_similar_phone"]
    assert "swapped" in candidates[0].reasons[0].detail


def test_a_name_alone_is_never_a_duplicate():
    assert pairs([Profile(1, "Marie Dubois"), Profile(2, "Marie Dubois")]) == {}
    assert (
        pairs(
            [
                Profile(1, "Marie Dubois", emails=("marie@a.fr",)),
                Profile(2, "Marie Dubois", emails=("dubois.famille@b.fr",)),
            ]
        )
        == {}
    )


def test_focus_only_compares_pairs_of_the_changed_customer():
    profiles = [
        Profile(1, "", phones=("+33612345678",)),
        Profile(2, "", phones=("33612345678",)),
        Profile(3, "", phones=("+33698765432",)),
        Profile(4, "", phones=("33698765432",)),
    ]
    assert set(pairs(profiles)) == {(1, 2), (3, 4)}
    assert set(pairs(profiles, focus={3})) == {(3, 4)}


def test_oversized_blocks_are_skipped(monkeypatch):
    monkeypatch.setattr("comptoir.customers.duplicates.MAX_BLOCK", 2)
    profiles = [Profile(i, "Jean Martin", phones=(f"+3361234567{i}",)) for i in range(3)]
    # The phone suffix blocks are small but differ; the name block (3) is too big.
    assert pairs(profiles) == {}


# --- proposals in the database: never a silent merge ---------------------------------------


def two_profiles(brand):
    """A caller (phone) and a WhatsApp user with the same number: two customers."""
    call = ingest_message(
        inbound(brand, Channel.PHONE, [IdentityClaim("phone", "06 12 34 56 78", True)])
    ).message
    chat = ingest_message(
        inbound(brand, Channel.WHATSAPP, [IdentityClaim("whatsapp", "33612345678", True)])
    ).message
    return call.conversation.customer, chat.conversation.customer


def test_duplicates_are_proposed_with_their_reason_never_merged(brand):
    phone_customer, whatsapp_customer = two_profiles(brand)
    created = propose_duplicates(brand)
    assert len(created) == 1
    proposal = created[0]
    assert {proposal.customer_a_id, proposal.customer_b_id} == {
        phone_customer.pk,
        whatsapp_customer.pk,
    }
    assert proposal.reasons == [{"code": "same_phone", "detail": "33612345678"}]
    assert proposal.status == ProposalStatus.OPEN
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
    assert Conversation.objects.filter(customer=phone_customer).count() == 1
    # Run again: nothing new; dismissed: never proposed again.
    assert propose_duplicates(brand) == []
    DuplicateProposal.objects.update(status=ProposalStatus.DISMISSED)
    assert propose_duplicates(brand) == []


def test_find_duplicates_command(brand, capsys):
    two_profiles(brand)
    call_command("find_duplicates", "--brand", brand.slug)
    assert f"{brand.slug}: 1 new proposal(s)" in capsys.readouterr().out
    assert DuplicateProposal.objects.filter(brand=brand).count() == 1


def test_an_identity_held_by_another_customer_is_proposed_not_moved(brand, agent):
    first = resolve_customer(brand, [IdentityClaim("email", "a@exemple.fr")])
    second = resolve_customer(brand, [IdentityClaim("email", "b@exemple.fr")])
    with pytest.raises(CustomerActionError, match="belongs to another customer"):
        add_identity(agent, second, "email", "A@exemple.fr")
    assert Identity.objects.get(value="a@exemple.fr").customer_id == first.pk
    proposal = DuplicateProposal.objects.get()
    assert proposal.reasons[0]["code"] == "same_identity"


LOOK_FOR_DUPLICATES = f"{look_for_duplicates.__module__}.{look_for_duplicates.__name__}"


def test_agent_added_identity_triggers_a_check(brand, agent):
    first = resolve_customer(brand, [IdentityClaim("phone", "06 12 34 56 78")])
    second = resolve_customer(brand, [IdentityClaim("email", "b@exemple.fr")])
    add_identity(agent, second, "whatsapp", "+33 6 12 34 56 78", verified=True)
    assert not DuplicateProposal.objects.exists()  # a worker's job, not the agent's request
    assert queued_task_names() == [LOOK_FOR_DUPLICATES]
    run_pending()
    proposal = DuplicateProposal.objects.get()
    assert (proposal.customer_a_id, proposal.customer_b_id) == (first.pk, second.pk)


def test_identities_from_messages_are_left_to_the_periodic_scan(brand):
    ingest_chat(brand, "Bonjour", extra_identities=[IdentityClaim("phone", "0612345678")])
    assert LOOK_FOR_DUPLICATES not in queued_task_names()


def test_a_merge_looks_for_duplicates_of_the_survivor(brand, supervisor):
    survivor = resolve_customer(brand, [IdentityClaim("email", "a@exemple.fr")])
    absorbed = resolve_customer(brand, [IdentityClaim("phone", "06 12 34 56 78")])
    third = resolve_customer(brand, [IdentityClaim("whatsapp", "+33612345678")])
    record = merge_customers(supervisor, survivor, absorbed)
    # One event per customer; only the survivor, who received identities, is looked at.
    assert queued_task_names() == [LOOK_FOR_DUPLICATES]
    run_pending()
    proposal = DuplicateProposal.objects.get()
    assert {proposal.customer_a_id, proposal.customer_b_id} == {survivor.pk, third.pk}
    DuplicateProposal.objects.all().delete()
    unmerge(supervisor, record)
    run_pending()
    # The phone went back to the absorbed customer (the pair itself is recorded as dismissed).
    proposal = DuplicateProposal.objects.get(status=ProposalStatus.OPEN)
    assert {proposal.customer_a_id, proposal.customer_b_id} == {absorbed.pk, third.pk}


# --- merge and unmerge ----------------------------------------------------------------------


@pytest.fixture
def supervisor(brand):
    return make_agent(brand, Role.SUPERVISOR, first_name="Sam")


def rich_pair(brand):
    """Survivor: a chat visitor; absorbed: a caller with a name, VIP, two conversations."""
    survivor = ingest_chat(brand, "chat").conversation.customer
    call = ingest_message(
        inbound(brand, Channel.PHONE, [IdentityClaim("phone", "06 12 34 56 78", True)], "appel")
    ).message
    absorbed = call.conversation.customer
    absorbed.display_name, absorbed.language, absorbed.is_vip = "Jeanne Roux", "fr", True
    absorbed.save()
    second = ingest_message(
        inbound(brand, Channel.EMAIL, [IdentityClaim("email", "jeanne@exemple.fr", True)], "mail")
    ).message
    Identity.objects.filter(value="jeanne@exemple.fr").update(customer=absorbed)
    Conversation.objects.filter(pk=second.conversation_id).update(customer=absorbed)
    Customer.objects.filter(pk=second.conversation.customer_id).delete()
    record_consent(absorbed, "marketing_email", True, source="widget")
    record_consent(survivor, "service", True, source="widget")
    return survivor, absorbed


def test_merge_carries_everything_and_unmerge_gives_it_back(brand, supervisor):
    survivor, absorbed = rich_pair(brand)
    first, second = sorted((survivor.pk, absorbed.pk))
    proposal = DuplicateProposal.objects.create(
        brand=brand, customer_a_id=first, customer_b_id=second, score=0.9, reasons=[]
    )
    absorbed_conversations = set(absorbed.conversations.values_list("pk", flat=True))
    absorbed_identities = set(absorbed.identities.values_list("pk", flat=True))
    absorbed_events = set(Event.objects.filter(customer=absorbed).values_list("pk", flat=True))
    assert len(absorbed_conversations) == 2 and absorbed_events

    record = merge_customers(supervisor, survivor, absorbed, proposal)

    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    assert absorbed.merged_into_id == survivor.pk
    assert set(survivor.conversations.values_list("pk", flat=True)) >= absorbed_conversations
    assert set(survivor.identities.values_list("pk", flat=True)) >= absorbed_identities
    assert survivor.consents.count() == 2
    assert not absorbed.identities.exists() and not absorbed.conversations.exists()
    assert (survivor.display_name, survivor.language, survivor.is_vip) == (
        "Jeanne Roux",
        "fr",
        True,
    )
    assert set(record.moved["conversations"]) == absorbed_conversations
    assert set(record.moved["identities"]) == absorbed_identities
    assert set(record.moved["events"]) == absorbed_events
    assert len(record.moved["consents"]) == 1
    assert record.actor == supervisor
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (ProposalStatus.MERGED, supervisor)
    merged_events = Event.objects.filter(kind="customer.merged")
    assert {e.customer_id for e in merged_events} == {survivor.pk, absorbed.pk}
    # Ingest never finds the absorbed customer again: the caller lands on the survivor.
    again = ingest_message(
        inbound(brand, Channel.PHONE, [IdentityClaim("phone", "+33612345678", True)])
    ).message
    assert again.conversation.customer_id == survivor.pk

    unmerge(supervisor, record)

    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    assert absorbed.merged_into_id is None
    assert set(absorbed.conversations.values_list("pk", flat=True)) == absorbed_conversations
    assert set(absorbed.identities.values_list("pk", flat=True)) == absorbed_identities
    assert set(Event.objects.filter(customer=absorbed, pk__in=absorbed_events)) == set(
        Event.objects.filter(pk__in=absorbed_events)
    )
    assert absorbed.consents.count() == 1 and survivor.consents.count() == 1
    assert (survivor.display_name, survivor.language, survivor.is_vip) == ("", "", False)
    # The call after the merge joined the caller's open conversation: it went back with it.
    assert again.conversation_id in absorbed_conversations
    record.refresh_from_db()
    assert record.unmerged_by == supervisor and record.unmerged_at is not None
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DISMISSED
    assert Event.objects.filter(kind="customer.unmerged").count() == 2
    with pytest.raises(MergeRefused, match="already undone"):
        unmerge(supervisor, record)


def test_unmerge_refuses_when_an_identity_was_removed(brand, supervisor, agent):
    survivor, absorbed = rich_pair(brand)
    record = merge_customers(supervisor, survivor, absorbed)
    remove_identity(agent, Identity.objects.get(value="jeanne@exemple.fr"))
    with pytest.raises(MergeRefused, match="identity moved by this merge was removed"):
        unmerge(supervisor, record)
    absorbed.refresh_from_db()
    assert absorbed.merged_into_id == survivor.pk
    assert not absorbed.conversations.exists()
    assert MergeRecord.objects.get().unmerged_at is None


def test_unmerge_refuses_when_the_survivor_was_merged_again(brand, supervisor):
    survivor, absorbed = rich_pair(brand)
    third = ingest_chat(brand, "third").conversation.customer
    record = merge_customers(supervisor, survivor, absorbed)
    merge_customers(supervisor, third, survivor)
    with pytest.raises(MergeRefused, match="undo that merge first"):
        unmerge(supervisor, record)


def test_only_supervisors_merge_and_only_within_their_brand(brand, agent, supervisor):
    survivor, absorbed = rich_pair(brand)
    with pytest.raises(MergeRefused) as refused:
        merge_customers(agent, survivor, absorbed)
    assert refused.value.forbidden
    other = make_agent(make_brand("Rival"), Role.ADMIN)
    with pytest.raises(MergeRefused) as refused:
        merge_customers(other, survivor, absorbed)
    assert refused.value.forbidden
    with pytest.raises(MergeRefused, match="themselves"):
        merge_customers(supervisor, survivor, survivor)
    merge_customers(supervisor, survivor, absorbed)
    with pytest.raises(MergeRefused, match="already merged"):
        merge_customers(supervisor, absorbed, survivor)
    assert Consent.objects.filter(customer=absorbed).count() == 0


def test_removing_the_last_identity_of_a_customer_with_conversations_is_refused(brand, agent):
    customer = ingest_chat(brand).conversation.customer
    with pytest.raises(CustomerActionError, match="only identity"):
        remove_identity(agent, customer.identities.get())
    add_identity(agent, customer, "email", "x@exemple.fr")
    remove_identity(agent, customer.identities.get(kind="chat_visitor"))
    assert list(customer.identities.values_list("kind", flat=True)) == ["email"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_opposite_merges_end_with_exactly_one(brand):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter (SQLite serialises writers)")
    supervisor = make_agent(brand, Role.SUPERVISOR)
    one = ingest_chat(brand, "one").conversation.customer
    two = ingest_chat(brand, "two").conversation.customer
    barrier = threading.Barrier(2)
    outcomes = []

    def run(survivor, absorbed):
        try:
            barrier.wait()
            merge_customers(supervisor, survivor, absorbed)
            outcomes.append("merged")
        except MergeRefused as exc:
            outcomes.append(exc.reason)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=run, args=(one, two)),
        threading.Thread(target=run, args=(two, one)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes)[-1] == "merged" and outcomes.count("merged") == 1
    assert Customer.objects.filter(merged_into__isnull=False).count() == 1
    assert MergeRecord.objects.count() == 1


# --- the widget's visitor follows the merge ----------------------------------------------


def test_a_visitor_token_of_the_absorbed_customer_continues_on_the_survivor(
    client, brand, supervisor
):
    survivor = ingest_chat(brand, "first browser").conversation.customer
    token, visitor = issue_visitor_token(brand.pk)
    absorbed = ingest_chat(brand, "second browser", visitor_id=visitor.visitor_id)
    absorbed = absorbed.conversation.customer
    merge_customers(supervisor, survivor, absorbed)
    response = client.post(
        "/widget/api/messages",
        {"text": "toujours moi", "client_id": str(uuid.uuid4())},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code in (200, 201), response.content
    message = Conversation.objects.get(messages__text="toujours moi")
    assert message.customer_id == survivor.pk
    session = client.post(
        "/widget/api/session",
        {"brand": brand.slug, "token": token},
        content_type="application/json",
    ).json()
    texts = [m["text"] for m in session["messages"]]
    assert {"first browser", "second browser", "toujours moi"} <= set(texts)


@pytest.mark.django_db(transaction=True)
async def test_an_open_widget_socket_follows_the_merge():
    from tests.test_realtime import receive_until, widget_socket

    brand = await database_sync_to_async(make_brand)()
    supervisor = await database_sync_to_async(make_agent)(brand, Role.SUPERVISOR)
    token, visitor = issue_visitor_token(brand.pk)
    absorbed_message = await database_sync_to_async(ingest_chat)(
        brand, "hello", visitor_id=visitor.visitor_id
    )
    survivor_message = await database_sync_to_async(ingest_chat)(brand, "other browser")
    socket = widget_socket(token)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(socket, "resumed")

    def merge():
        survivor = Customer.objects.get(pk=survivor_message.conversation.customer_id)
        absorbed = Customer.objects.get(pk=absorbed_message.conversation.customer_id)
        merge_customers(supervisor, survivor, absorbed)

    await database_sync_to_async(merge)()
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame["kind"] == "customer.merged" and frame["payload"] == {}
    # A reply in the survivor's conversation now reaches this visitor's widget.
    await database_sync_to_async(send_reply)(supervisor, survivor_message.conversation, "Bonjour !")
    frames = []
    while not any(f.get("kind") == "message.created" for f in frames):
        frames.append(await socket.receive_json_from(timeout=WS_TIMEOUT))
    assert frames[-1]["payload"]["text"] == "Bonjour !"
    await socket.disconnect()


# --- API -----------------------------------------------------------------------------------


def api(client, membership):
    _, key = ApiToken.issue(membership, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_api_identities(client, brand, agent):
    customer = ingest_chat(brand).conversation.customer
    headers = api(client, agent)
    url = f"/api/customers/{customer.pk}/identities"
    added = client.post(
        url,
        {"kind": "email", "value": "Jean@Exämple.FR"},
        content_type="application/json",
        **headers,
    )
    assert added.status_code == 201, added.content
    assert added.json()["value"] == "jean@xn--exmple-cua.fr" and not added.json()["verified"]
    bad = client.post(
        url, {"kind": "phone", "value": "12"}, content_type="application/json", **headers
    )
    assert bad.status_code == 400 and "valid" in bad.json()["detail"]
    assert client.get(url, **headers).json()[0]["kind"] == "chat_visitor"
    identity_id = added.json()["id"]
    verified = client.post(f"/api/identities/{identity_id}/verify", **headers)
    assert verified.status_code == 200 and verified.json()["verified"]
    assert client.post(f"/api/identities/{identity_id}/verify", **headers).status_code == 409
    assert client.delete(f"/api/identities/{identity_id}", **headers).status_code == 204
    last = customer.identities.get()
    refused = client.delete(f"/api/identities/{last.pk}", **headers)
    assert refused.status_code == 409 and "only identity" in refused.json()["detail"]


def test_api_merge_and_unmerge(client, brand, agent, supervisor, outsider):
    survivor, absorbed = rich_pair(brand)
    propose_duplicates(brand)  # nothing in common: no proposal
    body = {"absorbed_id": absorbed.pk}
    url = f"/api/customers/{survivor.pk}/merge"
    as_agent = client.post(url, body, content_type="application/json", **api(client, agent))
    assert as_agent.status_code == 403 and "supervisors" in as_agent.json()["detail"]
    headers = api(client, supervisor)
    foreign = ingest_chat(outsider.brand).conversation.customer
    assert (
        client.post(
            url, {"absorbed_id": foreign.pk}, content_type="application/json", **headers
        ).status_code
        == 404
    )
    merged = client.post(url, body, content_type="application/json", **headers)
    assert merged.status_code == 201, merged.content
    assert set(merged.json()["moved"]["identities"]) == set(
        Identity.objects.filter(customer=survivor, kind__in=["phone", "email"]).values_list(
            "pk", flat=True
        )
    )
    absorbed_view = client.get(f"/api/customers/{absorbed.pk}", **headers).json()
    assert absorbed_view["merged_into_id"] == survivor.pk
    merges = client.get("/api/merges", **headers).json()
    assert merges["count"] == 1
    undo = client.post(f"/api/merges/{merged.json()['id']}/unmerge", **headers)
    assert undo.status_code == 200 and undo.json()["unmerged_at"]
    again = client.post(f"/api/merges/{merged.json()['id']}/unmerge", **headers)
    assert again.status_code == 409
    assert client.get("/api/merges", **api(client, outsider)).json()["count"] == 0


def test_api_duplicates_list_and_dismiss(client, brand, agent, supervisor, outsider):
    two_profiles(brand)
    propose_duplicates(brand)
    listed = client.get("/api/duplicates", **api(client, agent)).json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["reasons"][0]["code"] == "same_phone" and item["reasons"][0]["label"]
    assert client.get("/api/duplicates", **api(client, outsider)).json()["count"] == 0
    dismiss = f"/api/duplicates/{item['id']}/dismiss"
    assert client.post(dismiss, **api(client, agent)).status_code == 403
    assert client.post(dismiss, **api(client, supervisor)).json()["status"] == "dismissed"
    assert client.get("/api/duplicates", **api(client, agent)).json()["count"] == 0


# --- console -------------------------------------------------------------------------------


def test_console_panel_shows_identities_proposals_and_decisions_by_role(client, brand, agent):
    phone_customer, whatsapp_customer = two_profiles(brand)
    propose_duplicates(brand)
    client.force_login(agent.user)
    page = client.get(reverse("console:customer", args=[phone_customer.pk])).content.decode()
    assert "+33612345678" in page and "Verified" in page
    assert reverse("console:identity_add", args=[phone_customer.pk]) in page
    assert "Same phone number on both profiles" in page
    proposal = DuplicateProposal.objects.get()
    assert reverse("console:proposal_merge", args=[proposal.pk]) not in page  # agents don't decide
    refused = client.post(
        reverse("console:proposal_merge", args=[proposal.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert refused.status_code == 403
    duplicates = client.get(reverse("console:duplicates"))
    assert duplicates.status_code == 200 and "Same phone number" in duplicates.content.decode()

    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    page = client.get(reverse("console:customer", args=[phone_customer.pk])).content.decode()
    assert reverse("console:proposal_merge", args=[proposal.pk]) in page
    merged = client.post(
        reverse("console:proposal_merge", args=[proposal.pk]),
        {"survivor": str(phone_customer.pk)},
    )
    assert merged.status_code == 302
    whatsapp_customer.refresh_from_db()
    assert whatsapp_customer.merged_into_id == phone_customer.pk
    # The absorbed customer's page now leads to the survivor.
    moved = client.get(reverse("console:customer", args=[whatsapp_customer.pk]))
    assert moved.status_code == 302
    assert moved["Location"] == reverse("console:customer", args=[phone_customer.pk])
    page = client.get(reverse("console:customer", args=[phone_customer.pk])).content.decode()
    record = MergeRecord.objects.get()
    assert reverse("console:merge_undo", args=[record.pk]) in page
    assert client.post(reverse("console:merge_undo", args=[record.pk])).status_code == 302
    whatsapp_customer.refresh_from_db()
    assert whatsapp_customer.merged_into_id is None


def test_console_identity_actions(client, brand, agent):
    customer = ingest_chat(brand).conversation.customer
    client.force_login(agent.user)
    url = reverse("console:identity_add", args=[customer.pk])
    fetch = {"HTTP_X_REQUESTED_WITH": "fetch"}
    assert (
        client.post(url, {"kind": "phone", "value": "06 12 34 56 78"}, **fetch).status_code == 204
    )
    bad = client.post(url, {"kind": "phone", "value": "nope"}, **fetch)
    assert bad.status_code == 400 and "valid" in bad.content.decode()
    identity = customer.identities.get(kind="phone")
    assert not identity.verified
    verify = reverse("console:identity_verify", args=[identity.pk])
    assert client.post(verify, **fetch).status_code == 204
    identity.refresh_from_db()
    assert identity.verified
    assert Event.objects.filter(kind="customer.identity_verified", customer=customer).exists()
    remove = reverse("console:identity_remove", args=[identity.pk])
    response = client.post(remove)  # without JavaScript: back to the customer page
    assert response.status_code == 302
    assert not customer.identities.filter(kind="phone").exists()


def test_console_actions_on_another_brand_are_404(client, brand, outsider, supervisor):
    typed = IdentityClaim(IdentityKind.PHONE, "+33612345678")  # unverified
    customer = ingest_chat(brand, extra_identities=[typed]).conversation.customer
    client.force_login(outsider.user)
    identity = customer.identities.get(kind=IdentityKind.PHONE)
    for url in (
        reverse("console:identity_add", args=[customer.pk]),
        reverse("console:identity_verify", args=[identity.pk]),
        reverse("console:identity_remove", args=[identity.pk]),
    ):
        assert client.post(url, {"kind": "email", "value": "x@y.fr"}).status_code == 404
    identity.refresh_from_db()
    assert not identity.verified
    other = IdentityKind.EMAIL
    assert not Identity.objects.filter(kind=other).exists()


def test_the_demo_has_a_duplicate_to_decide(db):
    call_command("load_demo")
    call_command("load_demo")  # idempotent
    proposal = DuplicateProposal.objects.get(brand__slug="maison-demo")
    assert proposal.reasons[0]["code"] == "same_phone"
    names = {proposal.customer_a.display_name, proposal.customer_b.display_name}
    assert names == {"Léa Moreau", "Léa M."}


def test_a_new_claim_for_a_customer_merged_meanwhile_goes_to_the_survivor(brand, supervisor):
    """Ingest looked the absorbed customer up just before the merge committed."""
    from comptoir.customers.resolution import add_identity_if_free

    survivor, absorbed = rich_pair(brand)
    stale = Customer.objects.get(pk=absorbed.pk)
    merge_customers(supervisor, survivor, absorbed)
    assert add_identity_if_free(brand, stale, "whatsapp", "33612345678", True)
    assert Identity.objects.get(kind="whatsapp").customer_id == survivor.pk


def test_records_other_apps_link_to_a_customer_move_with_it(brand, supervisor):
    """Callback requests (phone app) are carried along without the merge knowing them."""
    from django.apps import apps
    from django.utils import timezone

    try:
        callback_model = apps.get_model("phone", "CallbackRequest")
    except LookupError:
        pytest.skip("no callback requests in this build")
    survivor, absorbed = rich_pair(brand)
    callback = callback_model.objects.create(
        brand=brand,
        customer=absorbed,
        conversation=absorbed.conversations.first(),
        number="+33612345678",
        requested_for=timezone.now(),
    )
    record = merge_customers(supervisor, survivor, absorbed)
    callback.refresh_from_db()
    assert callback.customer_id == survivor.pk
    assert record.moved["phone.callbackrequest.customer"] == [callback.pk]
    unmerge(supervisor, record)
    callback.refresh_from_db()
    assert callback.customer_id == absorbed.pk


def test_the_customer_page_shows_one_timeline_across_channels(client, brand, agent):
    mail = ingest_message(
        inbound(brand, Channel.EMAIL, [IdentityClaim("email", "lea@exemple.fr", True)], "par mail")
    ).message
    ingest_message(
        inbound(
            brand,
            Channel.WHATSAPP,
            [
                IdentityClaim("whatsapp", "33611223344", True),
                IdentityClaim("email", "lea@exemple.fr"),
            ],
            "par whatsapp",
        )
    )
    send_reply(agent, mail.conversation, "réponse de l'agent")
    client.force_login(agent.user)
    customer_id = mail.conversation.customer_id
    page = client.get(reverse("console:customer", args=[customer_id])).content.decode()
    timeline = page[page.index('id="customer-timeline"') :]
    assert (
        timeline.index("réponse de l") < timeline.index("par whatsapp") < timeline.index("par mail")
    )
    assert "chip--whatsapp" in timeline and "chip--email" in timeline
    conversation_page = client.get(reverse("console:conversation", args=[mail.conversation_id]))
    assert 'id="customer-timeline"' not in conversation_page.content.decode()


def test_the_worker_proposes_duplicates_among_customers_messages_created(brand):
    """Ingest never waits for detection; the worker's periodic scan finds the pair."""
    from django.utils import timezone

    from comptoir.customers.duplicates import propose_for_recent_identities

    since = timezone.now()
    typed = IdentityClaim(IdentityKind.PHONE, "+33612345678")  # typed in the chat
    ingest_chat(brand, "Bonjour", extra_identities=[typed])
    ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.WHATSAPP,
            external_id="wamid.1",
            text="Bonjour",
            identities=[IdentityClaim(IdentityKind.WHATSAPP, "33612345678", verified=True)],
        )
    )
    assert not DuplicateProposal.objects.exists()  # not at ingest
    assert propose_for_recent_identities(since) == 1
    assert DuplicateProposal.objects.get().reasons[0]["code"] == "same_phone"
    assert propose_for_recent_identities(since) == 0  # never proposed twice
    assert propose_for_recent_identities(timezone.now()) == 0  # nothing new since
