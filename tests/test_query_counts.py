"""How many SQL queries each console page and each API list runs: pinned, and flat.

``QUERY_COUNTS`` is the table: every page of the console an agent loads with
GET (inbox, conversation, customer, duplicates, the assistant's pages, the
callback queue, the mail quarantine) and every list of the REST API, with the
number of queries it runs. One brand gets a little of everything those pages
list, every page is measured; then it gets more of everything (conversations
with messages, files, notes, calls and assignments; customers with identities,
advisors, merges and duplicates; agents and teams; callbacks; intents,
articles and assistant jobs; quarantined mail) and every page is measured
again. A count must not grow with the data (a query per row, N+1, shows here)
and must equal the pinned number, so that a change either way is seen and
looked at: when it is meant, pin the new number.

The counts are the same on SQLite and PostgreSQL.
"""

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comptoir.appointments.actions import (
    add_walk_in,
    available_slots,
    book_appointment,
    call_appointment,
    serve_appointment,
)
from comptoir.appointments.models import Device, Location, Service
from comptoir.appointments.models import Outcome as AppointmentOutcome
from comptoir.assistant import engine
from comptoir.assistant.enabled_brands import forget_enabled_brands
from comptoir.assistant.models import (
    AssistantJob,
    ConversationState,
    Intent,
    JobStatus,
    KnowledgeArticle,
    Outcome,
)
from comptoir.canned.models import CannedReply
from comptoir.conversations.actions import add_note, resolve_conversation, send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment
from comptoir.conversations.models import Attachment, AuthorKind, Channel, Conversation
from comptoir.conversations.tags import tag_conversation
from comptoir.customers.actions import add_identity, set_advisor
from comptoir.customers.duplicates import propose_duplicates
from comptoir.customers.merging import merge_customers, unmerge
from comptoir.customers.models import Customer, IdentityKind
from comptoir.gdpr.actions import fulfil_export, request_data_export
from comptoir.moving_in.models import ImportRun
from comptoir.outbound_webhooks.actions import create_endpoint
from comptoir.outbound_webhooks.models import WebhookEndpoint
from comptoir.reports.facts import catch_up
from comptoir.routing.assignment import assign_conversation, route_to_person
from comptoir.tenancy.models import ApiToken, Brand, Membership, Role, Team
from comptoir.touchpoints.email.models import Mailbox, MailSource, QuarantinedMail
from comptoir.touchpoints.email.receiving import quarantine_mail
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.phone.callbacks import close_callback, request_callback
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.click_to_call import call_back_now, start_outbound_call
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from comptoir.touchpoints.phone.models import Call, CallbackStatus, PhoneLine, Provider
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent, make_brand

# Asks pytest-django for the test database, which the module fixture below fills.
pytestmark = pytest.mark.django_db

# (page or API list, queries). ``{name}`` is an id of the scene (``Scene.ids``).
# Console pages count the session, the user and their membership first (3), and the
# inbox the agent's saved views (1, comptoir/search); the
# API counts its token (1), then the total of a paginated list (1).
QUERY_COUNTS = [
    # The console (comptoir/console/urls.py)
    ("/console/login/", 0),
    ("/console/", 10),  # + tags of the list, bulk bar's agents and tag names
    ("/console/?view=mine", 10),
    ("/console/?view=teams", 10),
    ("/console/fragments/inbox/", 9),  # + tags, bulk bar's agents and tag names
    # + SLA badge, + saved views, + audit entry, + consents, + the reply box's channels (2: the
    # customer's recent channels and identities; one more per messaging channel they have an id
    # on), + tags (3: the inbox's, the conversation's, the brand's names)
    ("/console/c/{conversation}/", 27),
    # + the channels a failed reply can go again on, its tags, the brand's tag names
    ("/console/c/{conversation}/thread/", 15),
    ("/console/c/{conversation}/panel/", 11),  # + consents
    # + audit entry, appointments, devices, consents, tags (3)
    ("/console/customers/{customer}/", 21),
    ("/console/customers/{customer}/panel/", 14),  # + appointments, devices, consents
    ("/console/attachments/{attachment}/", 4),
    ("/console/duplicates/", 5),
    # Search (comptoir/search/urls.py): teams, colleagues, saved views, then the page of
    # results, its total and its snippets
    ("/console/search/?q=Demande", 11),  # + the page's tags, the tag filter's names
    ("/console/search/?q=Réponse&sort=waiting", 11),
    ("/console/search/?status=open&assignee=none&sort=oldest", 10),
    # The supervisor's live board (comptoir/routing/board.py)
    ("/console/board/", 11),  # + settings, queue, members, profiles, loads, teams, last event
    ("/console/board/fragment/", 10),
    # The assistant in the console (comptoir/assistant/urls.py)
    ("/console/c/{conversation}/assist/", 8),
    ("/console/assistant/", 8),
    ("/console/assistant/results/", 4),
    ("/console/assistant/intents/new/", 4),
    ("/console/assistant/intents/{intent}/", 5),
    ("/console/assistant/articles/new/", 3),
    ("/console/assistant/articles/{article}/", 4),
    # Phone: the callback queue; e-mail: the quarantine
    ("/console/callbacks/", 7),
    ("/console/mail/quarantine/", 4),
    ("/console/mail/quarantine/?resolved=1", 4),
    ("/console/mail/quarantine/{mail}/raw/", 4),
    # Reports (comptoir/reports): the catch-up with the log (watermark, its lock, new events),
    # then the measures from the day roll-ups (the brand's period rows and backlog before it,
    # read once for summary, days and scores; each breakdown's two), names of teams and
    # agents, follow-ups; the drill-down adds its rows
    ("/console/reports/", 22),
    ("/console/reports/?drill=all", 23),
    # Canned replies (comptoir/canned/urls.py): the page, and what "/" offers in a conversation
    ("/console/replies/", 4),
    ("/console/c/{conversation}/replies/", 5),  # + conversation and customer, the replies
    # Settings (comptoir/administration/urls.py)
    ("/console/settings/", 3),  # + nothing: the brand came with the membership
    ("/console/settings/agents/", 4),
    ("/console/settings/teams/", 6),  # + teams, their members, the form's agents
    ("/console/settings/teams/{team}/", 6),
    ("/console/settings/channels/", 6),  # + mailboxes, accounts, lines
    ("/console/settings/channels/mailboxes/{mailbox}/", 4),
    ("/console/settings/channels/messaging/{account}/", 4),
    ("/console/settings/channels/phone/{line}/", 4),
    ("/console/settings/api-tokens/", 4),
    # Privacy (comptoir/gdpr/urls.py): open and closed data requests; records of processing
    ("/console/privacy/requests/", 5),
    ("/console/privacy/", 4),  # + the brand's survey settings
    # Appointments (comptoir/appointments/urls.py): the desk, the lobby, devices
    # + locations, calendar (3), 6 lists, staff, last event, who is being served (free desks)
    ("/console/appointments/", 17),
    ("/console/appointments/fragment/", 12),
    ("/console/appointments/locations/{location}/lobby/", 6),
    ("/console/devices/?serial=SNQ", 4),
    ("/console/devices/{device}/", 5),
    # The REST API's lists
    ("/api/reports", 17),
    ("/api/teams", 3),
    ("/api/customers", 4),
    ("/api/customers?q=exemple", 4),
    ("/api/customers/{customer}/conversations", 5),  # + the page's tags
    ("/api/customers/{customer}/identities", 3),
    ("/api/conversations", 4),  # + the page's tags
    ("/api/conversations?assignee=me&status=open", 4),
    ("/api/conversations/{conversation}/messages", 5),
    ("/api/duplicates", 3),
    ("/api/merges", 3),
    ("/api/callbacks", 3),
    ("/api/callbacks?due=true", 3),
    ("/api/assistant/intents", 3),
    ("/api/assistant/articles", 3),
    ("/api/assistant/metrics", 2),
    ("/api/search?q=Demande", 5),  # + the page's tags
    ("/api/search?q=Réponse&status=open&sort=waiting", 5),
    # Outbound webhooks (comptoir/outbound_webhooks): endpoints, a delivery log
    ("/console/webhooks/", 4),
    ("/console/webhooks/{endpoint}/", 6),  # + endpoint, count, page of deliveries
    ("/api/webhooks/endpoints", 3),
    ("/api/webhooks/endpoints/{endpoint}/deliveries", 4),
    # Moving in (comptoir/moving_in): the imports and their reports
    ("/console/imports/", 4),
    ("/api/devices?serial_number=SNQ", 2),
    ("/api/devices/{device}", 3),
]

PNG_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415478da63f8cfc0f0000003010100c9fe92ef0000000049454e44ae426082"
)


@dataclass
class Scene:
    """A brand an administrator works in, and the objects the pages above open."""

    brand: Brand
    admin: Membership
    visitor: str  # the chat visitor behind ``conversation``
    phone: str  # their phone number, which agents call
    conversation: Conversation  # opened by the conversation pages; grows every round
    intent: Intent
    article: KnowledgeArticle
    mail: QuarantinedMail
    endpoint: WebhookEndpoint  # its delivery log grows with every message
    location: Location
    device: Device

    @property
    def customer(self) -> Customer:
        return self.conversation.customer

    def ids(self) -> dict[str, int]:
        return {
            "conversation": self.conversation.pk,
            "customer": self.conversation.customer_id,
            "attachment": Attachment.objects.filter(message__conversation=self.conversation)
            .values_list("pk", flat=True)
            .first(),
            "intent": self.intent.pk,
            "article": self.article.pk,
            "mail": self.mail.pk,
            "endpoint": self.endpoint.pk,
            **{
                name: model.objects.filter(brand=self.brand).order_by("pk")[0].pk
                for name, model in (
                    ("team", Team),
                    ("mailbox", Mailbox),
                    ("account", MessagingAccount),
                    ("line", PhoneLine),
                )
            },
            "location": self.location.pk,
            "device": self.device.pk,
        }


_numbers = itertools.count(10_000_000)


def phone_number() -> str:
    """A French mobile number no other customer of the test has."""
    return f"+336{next(_numbers):08d}"


def quarantined(brand: Brand, n: int) -> QuarantinedMail:
    raw = f"From: client{n}@exemple.fr\r\nSubject: Colis {n}\r\n\r\nBonjour\r\n".encode()
    return quarantine_mail(raw, brand=brand, source=MailSource.HTTP, reason="no mailbox")


def build_scene(brand: Brand, admin: Membership) -> Scene:
    PhoneLine.objects.create(brand=brand, number="+33180000009", provider=Provider.LOG)
    visitor = "f" * 32
    number = phone_number()
    conversation = ingest_chat(
        brand,
        "Bonjour, mon colis n'est pas arrivé",
        visitor_id=visitor,
        extra_identities=[IdentityClaim(IdentityKind.PHONE, number)],
        attachments=[InboundAttachment("colis.png", "image/png", PNG_PIXEL)],
    ).conversation
    hand_off(conversation)
    location, service = shop(brand), diagnosis(brand, capacity=100)
    appointment = book_at_the_first_slot(location, service, conversation.customer, "SNQ0")
    return Scene(
        brand=brand,
        admin=admin,
        visitor=visitor,
        phone=number,
        conversation=conversation,
        intent=Intent.objects.create(
            brand=brand,
            name="order_status",
            label="Order status",
            training_phrases_fr=["Où est ma commande ?"],
            answer_fr="Votre commande est en route.",
        ),
        article=KnowledgeArticle.objects.create(
            brand=brand, title="Livraison", body="Sous 48 heures."
        ),
        mail=quarantined(brand, 0),
        endpoint=webhook_endpoint(admin, 0),
        location=location,
        device=appointment.device,
    )


def book_at_the_first_slot(location: Location, service, customer: Customer, serial: str):
    now = timezone.now()
    slot = available_slots(location, service, now, now + timedelta(days=8))[0]
    return book_appointment(
        location, service, slot.starts_at, customer=customer, serial_number=serial
    )


def webhook_endpoint(admin: Membership, n: int) -> WebhookEndpoint:
    """An endpoint wanting every message: each one the pages add gets a delivery (never sent)."""
    endpoint, _ = create_endpoint(
        admin,
        url=f"https://8.8.8.8/hooks/{n}",
        kinds=["conversation.created", "message.created"],
        description=f"Intégration {n}",
    )
    return endpoint


def hand_off(conversation: Conversation) -> None:
    """What the assistant leaves when it hands a conversation to a person: its summary and note.

    Written directly: running the assistant takes its language models, and the
    pages only read these two rows (the summary card at the top of the thread).
    """
    summary = {
        "reason": "failed_twice",
        "intent": "order_status",
        "intent_label": "Order status",
        "confidence": 0.42,
        "language": "fr",
        "sentiment": -0.3,
        "angry": False,
        "vip": False,
        "details": {"order_number": "MD-10482"},
        "history": [
            {"kind": "said", "text": "Où est ma commande ?"},
            {"kind": "action", "order_number": "MD-10482", "result": "expédiée"},
        ],
        "last_message": "Toujours rien",
        "routed_to": {"kind": "queue", "name": ""},
    }
    ConversationState.objects.create(
        brand_id=conversation.brand_id,
        conversation=conversation,
        summary=summary,
        handed_off_at=timezone.now(),
    )
    add_note(None, conversation, "Assistant handoff: failed twice", author_kind=AuthorKind.BOT)


def end_call(brand: Brand, call: Call) -> None:
    """The provider reports the call answered, then ended."""
    for kind in (CallEventKind.ANSWERED, CallEventKind.ENDED):
        event = CallEvent(
            provider=call.provider,
            call_id=call.provider_call_id,
            kind=kind,
            occurred_at=timezone.now(),
            event_id=kind,
            direction=call.direction,
            from_number=call.from_number,
            to_number=call.to_number,
        )
        record_call_event(brand, event)


def grow(scene: Scene, rounds: int) -> None:
    """Add ``rounds`` of everything the pages list, through the actions where there is one."""
    brand, admin = scene.brand, scene.admin
    for _ in range(rounds):
        n = next(_numbers)
        # An agent in a new team.
        agent = make_agent(brand, first_name=f"Agent{n}")
        team = Team.objects.create(brand=brand, name=f"Équipe {n}")
        team.members.add(agent, admin)
        # A customer with identities, an advisor and an assigned conversation.
        asked = ingest_chat(
            brand,
            f"Demande {n}",
            extra_identities=[
                IdentityClaim(IdentityKind.EMAIL, f"client{n}@exemple.fr"),
                IdentityClaim(IdentityKind.PHONE, phone_number()),
            ],
            attachments=[InboundAttachment(f"piece{n}.png", "image/png", PNG_PIXEL)],
        )
        send_reply(agent, asked.conversation, f"Réponse {n}")
        add_note(admin, asked.conversation, f"Note {n}")
        assign_conversation(admin, asked.conversation, agent)
        set_advisor(admin, asked.conversation.customer, agent)
        # The customer asks for a copy (open) and an earlier request was answered (closed).
        fulfil_export(admin, request_data_export(asked.conversation.customer, source="widget"))
        request_data_export(asked.conversation.customer, source="portal")
        # One waiting in the new team's queue, one for the administrator.
        queued = ingest_chat(brand, f"En attente {n}").conversation
        route_to_person(None, queued, team)
        mine = ingest_chat(brand, f"Pour l'administrateur {n}").conversation
        assign_conversation(admin, mine, admin)
        # Tags on listed conversations and the opened one (the inbox, search and API show them).
        for tagged in (asked.conversation, queued, mine, scene.conversation):
            tag_conversation(admin, tagged, f"Étiquette {n}")
        # The opened conversation: a message with a file, a reply, a note, a call, a new assignee.
        ingest_chat(
            brand,
            f"Message {n}",
            visitor_id=scene.visitor,
            attachments=[InboundAttachment(f"photo{n}.png", "image/png", PNG_PIXEL)],
        )
        send_reply(agent, scene.conversation, f"Réponse {n}")
        add_note(admin, scene.conversation, f"Note {n}")
        start_outbound_call(agent, scene.phone)
        assign_conversation(admin, scene.conversation, agent)
        add_identity(admin, scene.customer, IdentityKind.EMAIL, f"focus{n}@exemple.fr")
        # An earlier conversation of another file, merged into the opened customer's.
        earlier = ingest_chat(brand, f"Ancienne demande {n}").conversation
        resolve_conversation(admin, earlier)
        merge_customers(admin, scene.customer, earlier.customer)
        # A merge undone.
        first = ingest_chat(brand, f"Premier {n}").conversation.customer
        second = ingest_chat(brand, f"Second {n}").conversation.customer
        unmerge(admin, merge_customers(admin, first, second))
        # Duplicates: the opened customer's new number on WhatsApp; the same number as a
        # phone caller and on WhatsApp.
        number = phone_number()
        add_identity(admin, scene.customer, IdentityKind.PHONE, number)
        ingest_chat(
            brand,
            f"WhatsApp {n}",
            extra_identities=[IdentityClaim("whatsapp", number.removeprefix("+"), True)],
        )
        number = phone_number()
        ingest_chat(brand, f"Appel {n}", extra_identities=[IdentityClaim("phone", number, True)])
        ingest_chat(
            brand,
            f"WhatsApp {n}",
            extra_identities=[IdentityClaim("whatsapp", number.removeprefix("+"), True)],
        )
        # Callbacks: one due, one later, one being called, one called back, one closed by hand.
        for minutes, note in [
            (0, "due"),
            (120, "later"),
            (0, "calling"),
            (0, "called"),
            (0, "closed"),
        ]:
            callback, _ = request_callback(
                brand,
                [IdentityClaim(IdentityKind.PHONE, phone_number())],
                phone_number(),
                requested_for=timezone.now() + timedelta(minutes=minutes) if minutes else None,
                note=f"{note} {n}",
                channel=Channel.API,
                external_id=f"callback:{note}:{n}",
                source="api",
            )
            if note in ("calling", "called"):
                call = call_back_now(agent, callback)
            if note == "called":
                end_call(brand, call)  # which closes the callback request
            elif note == "closed":
                close_callback(agent, callback, CallbackStatus.DONE)
        # The assistant: an intent of the team, an article, a job answered and one handed off.
        intent = Intent.objects.create(
            brand=brand, name=f"intent_{n}", label=f"Intent {n}", team=team
        )
        KnowledgeArticle.objects.create(brand=brand, title=f"Article {n}", body="Texte")
        for outcome, message in [
            (Outcome.ANSWERED, asked),
            (Outcome.HANDOFF, queued.messages.get()),
        ]:
            now = timezone.now()
            AssistantJob.objects.create(
                brand=brand,
                message=message,
                conversation=message.conversation,
                status=JobStatus.DONE,
                created_at=now,
                processed_at=now,
                outcome=outcome,
                reason="failed_twice" if outcome == Outcome.HANDOFF else "",
                intent=intent.name,
            )
        # An import of another help desk's export, with its report.
        ImportRun.objects.create(
            brand=brand,
            source="zendesk",
            file=f"imports/{n}.zip",
            status="done",
            report={"customers_created": n, "skipped": [{"what": f"ticket {n}", "reason": "?"}]},
        )
        # Another webhook endpoint (deliveries come with every message above).
        webhook_endpoint(admin, n)
        # Canned replies: a shared one and the administrator's own.
        CannedReply.objects.create(
            brand=brand, shortcut=f"shared{n}", title=f"Shared {n}", body="{{ customer.name }}"
        )
        CannedReply.objects.create(
            brand=brand,
            owner=admin,
            shortcut=f"mine{n}",
            title=f"Mine {n}",
            body="{{ agent.name }}",
        )
        # Channels and an API token (Settings).
        Mailbox.objects.create(brand=brand, address=f"support{n}@exemple.fr")
        MessagingAccount.objects.create(
            brand=brand, provider="messenger", external_id=f"page-{n}", app_secret="s"
        )
        PhoneLine.objects.create(brand=brand, number=f"+3318{n:08d}", label=f"Ligne {n}")
        ApiToken.issue(agent, f"Intégration {n}")
        # Mail that could not be stored, one of them retried since.
        quarantined(brand, n)
        resolved = quarantined(brand, n)
        QuarantinedMail.objects.filter(pk=resolved.pk).update(
            resolved=True, resolved_at=timezone.now(), resolution="ingested"
        )
        # Appointments: the opened customer's device again, a new device; walk-ins waiting,
        # called and served (today, whatever the shop's hours).
        service = Service.objects.get(brand=brand)
        book_at_the_first_slot(scene.location, service, scene.customer, "SNQ0")
        book_at_the_first_slot(scene.location, service, asked.conversation.customer, f"SNQ{n}")
        for first_name in ("Waiting", "Called", "Served"):
            walk_in = add_walk_in(
                scene.location,
                service,
                by=agent,
                customer=asked.conversation.customer,
                first_name=f"{first_name}{n}",
                serial_number=f"SNQ{n}",
            )
            if first_name != "Waiting":
                call_appointment(walk_in, agent)
            if first_name == "Served":
                serve_appointment(walk_in, agent, outcome=AppointmentOutcome.FIXED)
    propose_duplicates(brand)


# Pages that show one object or a form, whose size does not grow with the brand's data.
SINGLE_OBJECT_PAGES = {
    "/console/login/",
    "/console/attachments/{attachment}/",
    "/console/c/{conversation}/assist/",
    "/console/assistant/articles/new/",
    "/console/assistant/articles/{article}/",
    "/console/mail/quarantine/{mail}/raw/",
    "/console/settings/",
    "/console/privacy/",
    "/console/settings/channels/mailboxes/{mailbox}/",
    "/console/settings/channels/messaging/{account}/",
    "/console/settings/channels/phone/{line}/",
}


@dataclass(frozen=True)
class Measure:
    queries: int
    size: int  # of the response body: shows that the page lists the data added


def measure(client: Client, url: str, token: ApiToken | None) -> Measure:
    """The queries one GET of ``url`` runs (it must answer 200), and the size of the answer."""
    if token is not None:
        # ``last_used_at`` is stamped at most once a minute: never during a measure.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    size = 0 if response.streaming else len(response.content)
    return Measure(len(captured), size)


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker, tmp_path_factory) -> dict[str, list[Measure]]:
    """Every page of the table measured with a little data, then with more.

    Measured once for the whole table in one brand, rather than once per row:
    building the data is nearly all the cost (about a second each time). It
    happens in a transaction rolled back at the end, so no other test sees it,
    and with the settings the other tests get from ``conftest.py``.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        forget_enabled_brands()
        engine.forget_classifiers()
        # The agent-assist page answers "loading" (fewer queries) until this process has
        # loaded its models: load them, so the count does not depend on the tests before.
        engine.warm_up()
        brand = make_brand("Maison")
        admin = make_agent(brand, Role.ADMIN, first_name="Ada")
        scene = build_scene(brand, admin)
        token, key = ApiToken.issue(admin, "query counts")
        api = Client(headers={"Authorization": f"Bearer {key}"})
        console = Client()
        console.force_login(admin.user)

        def measure_page(page: str) -> Measure:
            url = page.format(**scene.ids())
            if page.startswith("/api/"):
                return measure(api, url, token)
            return measure(Client() if page == "/console/login/" else console, url, None)

        grow(scene, 1)
        catch_up()
        for page, _ in QUERY_COUNTS:
            # The first request of a page may fill process caches (URLs, translations).
            measure_page(page)
        few = {page: measure_page(page) for page, _ in QUERY_COUNTS}
        grow(scene, 3)
        # The reports' figures keep up with the log every 10 s (reports.tasks): measured
        # caught up, as with a little data, so that only the pages' own queries count.
        catch_up()
        many = {page: measure_page(page) for page, _ in QUERY_COUNTS}
        transaction.set_rollback(True)
    forget_enabled_brands()
    engine.forget_classifiers()
    return {page: [few[page], many[page]] for page, _ in QUERY_COUNTS}


@pytest.mark.parametrize(("page", "expected"), QUERY_COUNTS)
def test_query_count_is_pinned_and_does_not_grow_with_the_data(measured, page, expected):
    few, many = (measure.queries for measure in measured[page])
    assert many == few, f"{page}: {few} queries with a little data, {many} with more (N+1)"
    assert few == expected, (
        f"{page} runs {few} queries, pinned at {expected}: if the change is meant, pin it"
    )


@pytest.mark.parametrize(
    "page", [page for page, _ in QUERY_COUNTS if page not in SINGLE_OBJECT_PAGES]
)
def test_every_list_shows_the_data_added(measured, page):
    """A page whose list stayed empty would pass the test above whatever each row costs.

    Three rounds of data add at least a row each to every list: far more than
    a count or an id one digit longer.
    """
    few, many = (measure.size for measure in measured[page])
    assert many - few >= 100, f"{page}: {few} bytes with a little data, {many} with more"
