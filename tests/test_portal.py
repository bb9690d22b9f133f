"""The customer portal: sign-in by code, the person's own conversations only, their data,
linking a second brand with consent, and brands never seeing each other."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.actions import add_note, send_reply
from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Attachment, Channel, Conversation, Message
from comptoir.customers.models import Consent, DuplicateProposal, Identity
from comptoir.events.models import Event
from comptoir.gdpr.models import DataRequest
from comptoir.portal.access import SESSION_COOKIE
from comptoir.portal.models import PortalLink, SignInCode
from comptoir.portal.tasks import purge_portal_codes
from comptoir.routing.assignment import assign_conversation
from comptoir.security.models import AuditEntry
from comptoir.tenancy.models import ApiToken
from tests.factories import ingest_chat, make_agent
from tests.portal_helpers import ask_code, mail_from, mail_to, portal_sign_in
from tests.test_email_outbound import smtp  # noqa: F401 — the real SMTP server fixture

PAUL = "paul.martin@client.example"
EVE = "eve@intruder.example"


@pytest.fixture
def paul_message(brand):
    return mail_from(brand, PAUL, "Ma commande 1234 est en retard")


def test_a_code_signs_the_person_in_and_shows_their_conversations(
    client,
    brand,
    agent,
    paul_message,
    smtp,  # noqa: F811
):
    conversation = paul_message.conversation
    assign_conversation(agent, conversation, agent)
    send_reply(agent, conversation, "Elle part demain.")
    add_note(agent, conversation, "NOTE-INTERNE client pénible")
    code, link = ask_code(client, brand, PAUL, smtp)
    assert len(code) == 6 and link
    mail = mail_to(smtp, PAUL)
    assert brand.name in mail["From"]
    stored = SignInCode.objects.get()
    assert code not in stored.code_hash and stored.used_at is None

    response = client.post(reverse("portal:code", args=[brand.slug]), {"code": code})
    assert response.status_code == 302
    assert client.cookies[SESSION_COOKIE]["httponly"]
    home = client.get(reverse("portal:home"))
    assert conversation.subject in home.content.decode()
    assert "Elle part demain." in home.content.decode()
    assert agent.display_name in home.content.decode()  # who handles it
    page = client.get(reverse("portal:conversation", args=[conversation.pk]))
    assert page.status_code == 200
    assert "Elle part demain." in page.content.decode()
    assert "NOTE-INTERNE" not in page.content.decode()
    assert AuditEntry.objects.filter(brand=brand, action="portal_signed_in").count() == 1
    # A portal session is no console session.
    assert client.get(reverse("console:inbox")).status_code == 302


def test_the_mailed_link_signs_in_on_a_post_only(client, brand, paul_message, smtp):  # noqa: F811
    _, link = ask_code(client, brand, PAUL, smtp)
    assert client.get(link).status_code == 200  # a mail scanner's GET proves nothing
    assert client.get(reverse("portal:home")).templates[0].name == "portal/welcome.html"
    response = client.post(link)
    assert response.status_code == 302
    assert paul_message.conversation.subject in client.get(reverse("portal:home")).content.decode()
    assert client.post(link).status_code == 400  # used


def test_known_and_unknown_addresses_get_the_same_answer(client, brand, paul_message, smtp):  # noqa: F811
    known = client.post(reverse("portal:sign_in", args=[brand.slug]), {"address": PAUL})
    unknown = client.post(
        reverse("portal:sign_in", args=[brand.slug]), {"address": "nobody@client.example"}
    )
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # The unknown address proves itself too: a customer of its own, with nothing to show.
    code, _ = ask_code(client, brand, "nobody@client.example", smtp)
    client.post(reverse("portal:code", args=[brand.slug]), {"code": code})
    identity = Identity.objects.get(brand=brand, value="nobody@client.example")
    assert identity.verified
    assert not Conversation.objects.filter(customer=identity.customer).exists()


def test_a_typed_address_proved_by_code_is_verified_and_not_the_typist_s_file(
    client,
    brand,
    smtp,  # noqa: F811
):
    typed = ingest_chat(
        brand,
        "Je suis Paul, vraiment",
        extra_identities=[IdentityClaim("email", PAUL, verified=False)],
    )
    portal_sign_in(client, brand, PAUL, smtp)
    identity = Identity.objects.get(brand=brand, value=PAUL)
    assert identity.verified and identity.customer_id != typed.conversation.customer_id
    assert "Je suis Paul" not in client.get(reverse("portal:home")).content.decode()
    assert DuplicateProposal.objects.filter(brand=brand).exists()  # an agent decides


def test_wrong_expired_and_used_codes_are_refused(client, brand, paul_message, smtp):  # noqa: F811
    code, _ = ask_code(client, brand, PAUL, smtp)
    wrong = "000000" if code != "000000" else "111111"
    url = reverse("portal:code", args=[brand.slug])
    response = client.post(url, {"code": wrong})
    assert response.status_code == 400
    assert SignInCode.objects.get().attempts == 1
    for _ in range(4):
        client.post(url, {"code": wrong})
    assert client.post(url, {"code": code}).status_code == 400  # five wrong: the code is dead
    assert SESSION_COOKIE not in client.cookies

    code, _ = ask_code(client, brand, PAUL, smtp)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert client.post(url, {"code": code}).status_code == 400

    code, _ = ask_code(client, brand, PAUL, smtp)
    assert client.post(url, {"code": code}).status_code == 302
    assert client.post(url, {"code": code}).status_code == 400


def test_codes_are_rate_limited_per_address_and_per_client(client, brand, settings, smtp):  # noqa: F811
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "portal_code": "2/3600"}
    url = reverse("portal:sign_in", args=[brand.slug])
    for _ in range(2):
        assert client.post(url, {"address": PAUL}).status_code == 302
    limited = client.post(url, {"address": PAUL})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert client.post(url, {"address": "other@client.example"}).status_code == 302

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "portal_code_address": "1/3600"}
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(url, {"address": "a@client.example"}).status_code == 302
    assert other.post(url, {"address": "b@client.example"}).status_code == 429


def test_a_phone_number_is_refused_the_same_way_for_everyone(client, brand):
    response = client.post(
        reverse("portal:sign_in", args=[brand.slug]), {"address": "06 12 34 56 78"}
    )
    assert response.status_code == 400
    assert SignInCode.objects.count() == 0


def test_another_person_never_sees_your_conversation(client, brand, paul_message, smtp):  # noqa: F811
    mail_from(brand, EVE, "Bonjour")
    portal_sign_in(client, brand, EVE, smtp)
    url = reverse("portal:conversation", args=[paul_message.conversation_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "Intrusion"}).status_code == 404
    assert not Message.objects.filter(text="Intrusion").exists()
    # Nor an agent's console session, nor nobody: sent to sign in.
    anonymous = Client()
    assert anonymous.get(url)["Location"] == reverse("portal:home")


def test_a_reply_from_the_portal_reaches_the_agent_like_any_message(
    client,
    brand,
    agent,
    paul_message,
    smtp,  # noqa: F811
):
    conversation = paul_message.conversation
    portal_sign_in(client, brand, PAUL, smtp)
    url = reverse("portal:conversation", args=[conversation.pk])
    form = {"text": "Merci, j'attends", "client_id": "9f1c2b8e-0000-4000-8000-000000000001"}
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the same form sent twice: one message
    [message] = Message.objects.filter(text="Merci, j'attends")
    assert message.conversation_id == conversation.pk
    assert message.channel == Channel.WEBCHAT and message.author_kind == "customer"
    assert Event.objects.filter(kind="message.created", conversation=conversation).exists()
    console = Client()
    console.force_login(agent.user)
    thread = console.get(reverse("console:conversation", args=[conversation.pk]))
    assert "Merci, j&#x27;attends" in thread.content.decode()


def test_writing_a_new_message_to_the_brand(client, brand, smtp):  # noqa: F811
    portal_sign_in(client, brand, "new@client.example", smtp)
    response = client.post(
        reverse("portal:new", args=[brand.slug]), {"text": "Une question sur la garantie"}
    )
    assert response.status_code == 302
    conversation = Conversation.objects.get(customer__identities__value="new@client.example")
    assert response["Location"] == reverse("portal:conversation", args=[conversation.pk])


def test_consents_export_and_erasure_request(client, brand, paul_message, smtp):  # noqa: F811
    portal_sign_in(client, brand, PAUL, smtp)
    customer = paul_message.conversation.customer
    url = reverse("portal:data", args=[brand.slug])
    assert client.get(url).status_code == 200
    client.post(url, {"purpose": "marketing_email", "granted": "1"})
    client.post(url, {"purpose": "marketing_email", "granted": "0"})
    latest = Consent.objects.filter(customer=customer).order_by("-recorded_at", "-pk").first()
    assert (latest.purpose, latest.granted, latest.source) == ("marketing_email", False, "portal")
    assert client.post(url, {"purpose": "nope", "granted": "1"}).status_code == 400

    exported = client.get(reverse("portal:export", args=[brand.slug]))
    assert exported.status_code == 200
    assert "Ma commande 1234" in exported.content.decode()
    assert AuditEntry.objects.filter(brand=brand, action="customer_exported").exists()

    client.post(reverse("portal:erase", args=[brand.slug]))
    client.post(reverse("portal:erase", args=[brand.slug]))
    # Tracked with a due date like any data request: supervisors see it in the console.
    request = DataRequest.objects.get(brand=brand, customer=customer, kind="erasure")
    assert (request.source, request.status) == ("portal", "open")
    assert request.due_at > request.requested_at
    assert (
        "erased" in client.get(url).content.decode() or "effac" in client.get(url).content.decode()
    )


# --- across brands ---------------------------------------------------------------------


@pytest.fixture
def paul_at_rival(other_brand):
    return mail_from(other_brand, "paul@perso.example", "Facture Rival numéro 77")


def _link(client, brand, address, smtp, *, consent=True):  # noqa: F811
    code, _ = ask_code(client, brand, address, smtp)
    data = {"code": code} | ({"consent": "1"} if consent else {})
    return client.post(reverse("portal:code", args=[brand.slug]), data), code


def test_linking_a_second_brand_needs_a_proved_identity_and_consent(
    client,
    brand,
    other_brand,
    paul_message,
    paul_at_rival,
    smtp,  # noqa: F811
):
    portal_sign_in(client, brand, PAUL, smtp)
    page = client.get(reverse("portal:sign_in", args=[other_brand.slug]))
    assert "Add" in page.content.decode() or "Ajouter" in page.content.decode()

    # An address Rival does not hold: its mail carries no code, nothing links.
    code, _ = ask_code(client, other_brand, PAUL, smtp)
    assert code == "" and "Nothing was linked" in mail_to(smtp, PAUL).get_content()

    # Without the box ticked: refused, and the code still works afterwards.
    response, code = _link(client, other_brand, "paul@perso.example", smtp, consent=False)
    assert response.status_code == 400
    response = client.post(
        reverse("portal:code", args=[other_brand.slug]), {"code": code, "consent": "1"}
    )
    assert response.status_code == 302
    home = client.get(reverse("portal:home")).content.decode()
    assert "Ma commande 1234" in home and "Facture Rival numéro 77" in home
    assert AuditEntry.objects.filter(brand=other_brand, action="portal_linked").count() == 1

    # Writing to Rival from the same place.
    client.post(reverse("portal:new", args=[other_brand.slug]), {"text": "Et ma facture ?"})
    assert Message.objects.get(text="Et ma facture ?").conversation_id == (
        paul_at_rival.conversation_id
    )

    # Unlinking is immediate and audited.
    assert client.post(reverse("portal:unlink", args=[other_brand.slug])).status_code == 302
    url = reverse("portal:conversation", args=[paul_at_rival.conversation_id])
    assert client.get(url).status_code == 404
    assert "Facture Rival numéro 77" not in client.get(reverse("portal:home")).content.decode()
    assert AuditEntry.objects.filter(brand=other_brand, action="portal_unlinked").count() == 1
    assert PortalLink.objects.filter(brand=other_brand).get().ended_at is not None


def test_a_linked_customer_stays_invisible_to_the_other_brand_s_agents(
    client,
    brand,
    other_brand,
    agent,
    paul_message,
    paul_at_rival,
    smtp,  # noqa: F811
):
    portal_sign_in(client, brand, PAUL, smtp)
    _link(client, other_brand, "paul@perso.example", smtp)
    assert PortalLink.objects.filter(ended_at=None).count() == 2
    console = Client()
    console.force_login(agent.user)
    rival_conversation = paul_at_rival.conversation
    for name, target in (
        ("console:conversation", rival_conversation.pk),
        ("console:customer", rival_conversation.customer_id),
    ):
        assert console.get(reverse(name, args=[target])).status_code == 404
    for page in ("console:inbox",):
        assert "Facture Rival numéro 77" not in console.get(reverse(page)).content.decode()
    _, key = ApiToken.issue(agent, "portal test")
    headers = {"Authorization": f"Bearer {key}"}
    listed = console.get("/api/conversations", headers=headers).json()["items"]
    assert [c["id"] for c in listed] == [paul_message.conversation_id]
    customers = console.get("/api/customers", headers=headers).json()["items"]
    assert [c["id"] for c in customers] == [paul_message.conversation.customer_id]
    assert "perso.example" not in str(customers)
    # And the audit entry in brand A's log says nothing of Rival.
    for entry in AuditEntry.objects.filter(brand=brand):
        assert other_brand.slug not in str(entry.details)


def test_an_agent_session_is_not_a_portal_session(client, brand, agent, paul_message):
    client.force_login(agent.user)
    response = client.get(reverse("portal:conversation", args=[paul_message.conversation_id]))
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).templates[0].name == "portal/welcome.html"


def test_old_codes_and_sessions_are_purged(client, brand, smtp):  # noqa: F811
    portal_sign_in(client, brand, PAUL, smtp)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        purge_portal_codes()
        assert SignInCode.objects.count() == 0
        assert client.get(reverse("portal:home")).templates[0].name == "portal/welcome.html"


def test_no_console_page_nor_api_endpoint_of_brand_a_shows_a_linked_customer_s_brand_b(
    client,
    brand,
    other_brand,
    paul_message,
    paul_at_rival,
    smtp,  # noqa: F811
):
    """As the isolation tests: every agent page and API endpoint of tests/test_permissions.py,
    by a member of brand A with the role it needs, after Paul linked both brands."""
    from tests.test_permissions import CASES, call, credentials, url_for

    portal = Client()
    portal_sign_in(portal, brand, PAUL, smtp)
    _link(portal, other_brand, "paul@perso.example", smtp)
    rival = paul_at_rival.conversation
    data = {"conversation": rival.pk, "customer": rival.customer_id}
    targets = set(data)
    data["twin"] = rival.customer_id  # the API merge body names one
    checked = 0
    for name, case in sorted(CASES.items()):
        if case.auth not in ("session", "token") or case.target not in (None, *targets):
            continue
        if case.target is None and case.method != "get":
            continue  # a write naming nothing of brand B
        member = make_agent(brand, case.role, first_name="Ada")
        headers = credentials(client, case, member)
        response = call(client, case, url_for(name, case, data), data, **headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if case.target is not None:
            assert response.status_code == 404, (name, response.status_code)
        assert b"Facture Rival" not in body and b"perso.example" not in body, name
        checked += 1
    assert checked > 40, checked


PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_photos_go_with_a_message_and_only_their_owner_downloads_them(
    client,
    brand,
    agent,
    paul_message,
    smtp,  # noqa: F811
):
    conversation = paul_message.conversation
    portal_sign_in(client, brand, PAUL, smtp)
    url = reverse("portal:conversation", args=[conversation.pk])
    photo = SimpleUploadedFile("aspirateur.png", PNG, content_type="image/png")
    assert client.post(url, {"text": "La photo", "files": [photo]}).status_code == 302
    message = Message.objects.get(text="La photo")
    attachment = message.attachments.get()
    file_url = reverse("portal:attachment", args=[attachment.pk])
    assert file_url in client.get(url).content.decode()
    download = client.get(file_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG

    # A file whose bytes are not what it says: refused, nothing stored, the text kept.
    fake = SimpleUploadedFile("virus.png", b"MZ" + b"0" * 64, content_type="image/png")
    refused = client.post(url, {"text": "Encore une", "files": [fake]})
    assert refused.status_code == 400
    assert "Encore une" in refused.content.decode()
    assert not Message.objects.filter(text="Encore une").exists()

    # Another person, and a note's file: 404.
    eve = Client()
    mail_from(brand, EVE, "Bonjour")
    portal_sign_in(eve, brand, EVE, smtp)
    assert eve.get(file_url).status_code == 404
    note = add_note(agent, conversation, "note")
    hidden = Attachment.objects.create(
        brand=brand, message=note, filename="interne.png", content_type="image/png", size=1
    )
    assert client.get(reverse("portal:attachment", args=[hidden.pk])).status_code == 404


def test_the_thread_alone_for_the_page_s_refresh(client, brand, agent, paul_message, smtp):  # noqa: F811
    conversation = paul_message.conversation
    portal_sign_in(client, brand, PAUL, smtp)
    send_reply(agent, conversation, "Réponse en direct")
    add_note(agent, conversation, "NOTE-INTERNE")
    part = client.get(reverse("portal:conversation", args=[conversation.pk]), {"part": "thread"})
    body = part.content.decode()
    assert "Réponse en direct" in body and "NOTE-INTERNE" not in body
    assert "<html" not in body and part["Cache-Control"] == "no-store"


def test_an_open_conversation_waiting_for_the_brand_says_when_to_expect_an_answer(
    client,
    brand,
    agent,
    paul_message,
    smtp,  # noqa: F811
):
    for n in range(5):  # the line's recent first responses: what the promise is made from
        send_reply(
            agent, mail_from(brand, f"client{n}@client.example", "Question").conversation, "Oui"
        )
    portal_sign_in(client, brand, PAUL, smtp)
    home = client.get(reverse("portal:home"))
    [row] = [r for item in home.context["files"] for r in item["conversations"]]
    assert row["waiting_for_us"] and row["expected"] is not None
    assert "We expect to answer by" in home.content.decode()
    send_reply(agent, paul_message.conversation, "Voilà")
    assert "We expect to answer by" not in client.get(reverse("portal:home")).content.decode()
