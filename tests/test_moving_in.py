"""Moving in from Zendesk and Chatwoot: fixture exports written from the vendors' formats.

``tests/fixtures/zendesk`` holds an Incremental User Export page and a full JSON
ticket export (one ticket per line, comments embedded); ``tests/fixtures/chatwoot``
a contacts CSV, a Conversations API page and a Messages API answer. Both hold
malformed rows, which must be reported and never stop the import.
"""

import shutil
import zipfile
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Conversation, Message
from comptoir.customers.models import Customer, IdentityKind
from comptoir.events.models import Event
from comptoir.moving_in import chatwoot, zendesk
from comptoir.moving_in.importer import import_export
from comptoir.moving_in.models import ImportRun
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role
from tests.factories import ingest_chat, make_agent

FIXTURES = Path(__file__).parent / "fixtures"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run(command: str, path: Path, brand) -> str:
    out = StringIO()
    call_command(command, str(path), brand=brand.slug, stdout=out)
    return out.getvalue()


@pytest.fixture
def camille(brand):
    """The agent who answered in both vendors, with an account here under the same address."""
    agent = make_agent(brand, first_name="Camille")
    agent.user.email = "camille@maison.example"
    agent.user.save()
    return agent


def test_zendesk_tickets_come_with_their_authors_times_notes_and_statuses(brand, camille):
    output = run("import-zendesk", FIXTURES / "zendesk", brand)

    claire = Customer.objects.get(identities__value="claire.martin@example.fr")
    assert claire.display_name == "Claire Martin"
    assert set(claire.identities.values_list("kind", "value")) == {
        ("email", "claire.martin@example.fr"),
        ("phone", "+33612345678"),
        ("customer_number", "CLI-4471"),
    }
    solved = Conversation.objects.get(subject="Colis non reçu")
    assert solved.customer == claire and solved.status == "resolved"
    assert solved.channel == "email" and solved.assignee == camille
    assert solved.created_at == at("2025-03-01T09:00:00")
    assert solved.first_response_at == at("2025-03-01T10:15:00")
    assert solved.resolved_at == at("2025-03-02T16:30:00")
    messages = list(solved.messages.order_by("created_at"))
    assert [(m.author_kind, m.direction, m.is_internal_note) for m in messages] == [
        ("customer", "in", False),
        ("agent", "out", False),
        ("agent", "out", True),
        ("customer", "in", False),
    ]
    assert [m.created_at for m in messages] == [
        at("2025-03-01T09:00:00"),
        at("2025-03-01T10:15:00"),
        at("2025-03-01T11:00:00"),
        at("2025-03-02T16:00:00"),
    ]
    assert messages[1].author == camille
    # Its attachment's name, type and size (the file stayed in Zendesk: never fetched).
    assert messages[1].text == "Nous regardons avec le transporteur."
    assert list(messages[1].attachments.values_list("filename", "content_type", "size")) == [
        ("suivi.pdf", "application/pdf", 20480)
    ]
    # The former administrator has no account here: the note is kept, without an author.
    assert messages[2].author is None and messages[2].text == "Transporteur relancé, dossier 88."
    assert messages[3].text == "Reçu, merci ! Ma carte 4111 11** **** 1111 a bien été remboursée."

    hold = Conversation.objects.get(subject="Retour")
    assert hold.customer == claire and hold.status == "pending" and hold.channel == "webchat"
    assert hold.messages.count() == 2  # the comment dated "yesterday" is reported, not stored
    assert Conversation.objects.get(subject="Facture").status == "open"
    assert not Conversation.objects.filter(subject__in=["Statut inconnu", "Sans adresse"]).exists()

    for reason in [
        "tickets.json line 4: not JSON",
        "ticket 503: unknown status 'archived'",
        "person 1003: no usable e-mail, phone or customer number",
        "ticket 505: a comment is left out: not a time: 'yesterday'",
        "users.json: 1 rows are not objects",
        "agent parti@ancien.example has no account here",
    ]:
        assert reason in output, reason
    # Not live traffic: one event per conversation, nothing for the listeners of messages.
    assert Event.objects.filter(kind="conversation.imported").count() == 3
    assert not Event.objects.filter(kind__in=["message.created", "conversation.created"]).exists()
    run_pending()
    assert Message.objects.filter(author_kind="bot").count() == 0


def test_a_second_run_imports_nothing_twice_and_a_later_export_adds_only_what_is_new(
    brand, camille, tmp_path
):
    first = zendesk.read_export(FIXTURES / "zendesk")
    report = import_export(brand, "zendesk", first)
    assert (report.conversations_created, report.messages_created) == (3, 8)
    assert report.customers_created == 2

    again = import_export(brand, "zendesk", zendesk.read_export(FIXTURES / "zendesk"))
    assert (again.conversations_created, again.messages_created) == (0, 0)
    assert again.already_imported == 3 and again.customers_created == 0
    assert Conversation.objects.count() == 3 and Message.objects.count() == 8
    assert Customer.objects.count() == 2

    # A later export: ticket 502 got an answer meanwhile.
    later = zendesk.read_export(FIXTURES / "zendesk")
    ticket = next(thread for thread in later.threads if thread.external_id == "502")
    newer = ticket.messages[-1]
    ticket.messages.append(
        type(newer)(
            external_id="zendesk:9103",
            author_kind="customer",
            text="Merci, bien reçue.",
            created_at=at("2025-03-06T09:00:00"),
            channel="email",
            author_external_id="1002",
        )
    )
    resumed = import_export(brand, "zendesk", later)
    assert (resumed.conversations_updated, resumed.messages_created) == (1, 1)
    facture = Conversation.objects.get(subject="Facture")
    assert facture.last_message_at == at("2025-03-06T09:00:00")


def test_an_imported_customer_is_recognised_when_they_write_tomorrow_and_existing_ones_merge(
    brand, camille
):
    # Paul already wrote on the chat and gave his address: the import joins his file.
    paul = ingest_chat(
        brand,
        "Bonjour",
        extra_identities=[IdentityClaim(IdentityKind.EMAIL, "paul.durand@example.fr")],
    ).conversation.customer
    report = import_export(brand, "zendesk", zendesk.read_export(FIXTURES / "zendesk"))
    assert (report.customers_created, report.customers_matched) == (1, 1)
    assert Conversation.objects.get(subject="Facture").customer == paul

    # Claire writes on the chat with the address she used with Zendesk.
    tomorrow = ingest_chat(
        brand,
        "Re-bonjour",
        extra_identities=[IdentityClaim(IdentityKind.EMAIL, "claire.martin@example.fr")],
    )
    assert tomorrow.conversation.customer.identities.filter(value="CLI-4471").exists()


def test_chatwoot_conversations_come_with_contacts_agents_bots_and_notes(brand, camille):
    output = run("import-chatwoot", FIXTURES / "chatwoot", brand)

    lea = Customer.objects.get(identities__value="lea.moreau@example.fr")
    resolved = Conversation.objects.get(customer=lea)
    assert resolved.status == "resolved" and resolved.channel == "webchat"
    assert resolved.assignee == camille
    assert resolved.created_at == datetime.fromtimestamp(1740820000, tz=UTC)
    messages = list(resolved.messages.order_by("created_at"))
    assert [(m.author_kind, m.is_internal_note) for m in messages] == [
        ("customer", False),
        ("agent", False),
        ("agent", True),
        ("customer", False),
        ("bot", False),
    ]
    assert messages[1].author == camille
    assert "https://chatwoot.example/rails/active_storage/photo.jpg" in messages[3].text
    assert not Message.objects.filter(text__contains="was resolved by").exists()

    # The anonymous visitor: messages from messages/302.json, snoozed is pending.
    visitor = Conversation.objects.get(customer__identities__kind="chat_visitor")
    assert visitor.status == "pending"
    assert list(visitor.messages.order_by("created_at").values_list("text", flat=True)) == [
        "Vous livrez en Belgique ?",
        "Oui, sous 3 jours.",
    ]
    for reason in [
        "conversation 303: unknown status 'archived'",
        "conversation 304: no meta.sender (the contact)",
        "person contact:13: no usable e-mail, phone or customer number",
        "conversation 302: message 7103: unknown message_type 9",
        "agent inconnu@maison.example has no account here",
    ]:
        assert reason in output, reason

    # Again: nothing twice; the anonymous visitor is found again by its visitor identity.
    before = (Customer.objects.count(), Conversation.objects.count(), Message.objects.count())
    second = run("import-chatwoot", FIXTURES / "chatwoot", brand)
    assert "conversations already imported" in second
    assert before == (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
    )


def test_an_interrupted_import_resumes_where_it_stopped(brand, camille, tmp_path):
    export = tmp_path / "zendesk"
    shutil.copytree(FIXTURES / "zendesk", export)
    lines = (export / "tickets.json").read_text(encoding="utf-8").splitlines()
    # The first run stopped after the first ticket (the rest never read).
    (export / "tickets.json").write_text(lines[0] + "\n", encoding="utf-8")
    assert import_export(brand, "zendesk", zendesk.read_export(export)).conversations_created == 1
    (export / "tickets.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_export(brand, "zendesk", zendesk.read_export(export))
    assert (report.conversations_created, report.already_imported) == (2, 1)
    assert Conversation.objects.count() == 3


def test_an_unknown_brand_or_path_is_a_clear_error(brand, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no brand"):
        call_command("import-chatwoot", str(tmp_path), brand="nope", stdout=StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import-zendesk", str(tmp_path / "x"), brand=brand.slug, stdout=StringIO())
    # An empty directory: nothing to import, said so.
    assert "no conversations.json" in run("import-chatwoot", tmp_path, brand)
    assert chatwoot.read_export(tmp_path).threads == []


# --- The console's upload ---


def zipped(folder: Path, into: Path, *, prefix: str = "export/") -> Path:
    """The export as a vendor's download would be: its files in one folder of a zip."""
    archive = into / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped_file:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped_file.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def test_an_administrator_uploads_an_export_which_a_worker_imports(client, admin, tmp_path):
    client.force_login(admin.user)
    archive = zipped(FIXTURES / "chatwoot", tmp_path)
    with archive.open("rb") as upload:
        response = client.post(reverse("moving_in:imports"), {"source": "chatwoot", "file": upload})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == "queued" and not Conversation.objects.exists()
    stored = Path(run.file.path)
    assert stored.exists()
    run_pending()
    run.refresh_from_db()
    assert run.status == "done"
    assert not stored.exists() and not run.file  # the export is not kept once imported
    assert (run.report["conversations_created"], run.report["messages_created"]) == (2, 7)
    page = client.get(reverse("moving_in:imports")).content.decode()
    assert "Conversations imported: 2" in page
    assert "conversation 303: unknown status &#x27;archived&#x27;" in page


def test_an_archive_that_escapes_its_folder_is_refused(client, admin, tmp_path):
    client.force_login(admin.user)
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as evil:
        evil.writestr("../../escaped.json", "{}")
    with archive.open("rb") as upload:
        client.post(reverse("moving_in:imports"), {"source": "zendesk", "file": upload})
    run_pending()
    run = ImportRun.objects.get()
    assert run.status == "failed" and "leaves the archive" in run.report["error"]
    assert not (tmp_path.parent / "escaped.json").exists()


def test_a_file_that_is_not_a_zip_is_reported(client, admin, settings):
    client.force_login(admin.user)
    upload = SimpleUploadedFile("export.zip", b"not a zip at all")
    client.post(reverse("moving_in:imports"), {"source": "zendesk", "file": upload})
    run_pending()
    run = ImportRun.objects.get()
    assert run.status == "failed" and "not a zip file" in run.report["error"]


def test_agents_and_supervisors_cannot_import(client, brand):
    client.force_login(make_agent(brand, Role.SUPERVISOR).user)
    upload = SimpleUploadedFile("export.zip", b"x")
    response = client.post(reverse("moving_in:imports"), {"source": "zendesk", "file": upload})
    assert response.status_code == 403 and not ImportRun.objects.exists()


# --- The API ---


def past_conversation(**changes) -> dict:
    return {
        "source": "crm",
        "external_id": "T-1",
        "customer": {"external_id": "C-9", "name": "Inès Petit", "email": "ines@example.fr"},
        "subject": "Garantie",
        "status": "resolved",
        "channel": "email",
        "created_at": "2024-11-02T09:00:00+01:00",
        "resolved_at": "2024-11-03T10:00:00+01:00",
        "assignee_email": "camille@maison.example",
        "messages": [
            {
                "external_id": "m1",
                "author": "customer",
                "text": "Ma bouilloire est en panne.",
                "created_at": "2024-11-02T09:00:00+01:00",
            },
            {
                "external_id": "m2",
                "author": "agent",
                "agent_email": "camille@maison.example",
                "text": "Elle est sous garantie : renvoyez-la.",
                "created_at": "2024-11-02T11:30:00+01:00",
            },
        ],
    } | changes


def test_the_api_imports_a_past_conversation_once_and_adds_later_messages(client, admin, camille):
    _, key = ApiToken.issue(admin, "import")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.post(
        "/api/imports/conversations", past_conversation(), "application/json", **headers
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["messages_added"], body["customer_existed"]) == (True, 2, False)
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.status == "resolved" and conversation.assignee == camille
    assert conversation.created_at == at("2024-11-02T08:00:00")
    reply = conversation.messages.get(author_kind="agent")
    assert reply.author == camille and reply.created_at == at("2024-11-02T10:30:00")

    again = client.post(
        "/api/imports/conversations", past_conversation(), "application/json", **headers
    )
    assert again.status_code == 200 and again.json()["messages_added"] == 0
    later = past_conversation()
    later["messages"].append(
        {
            "external_id": "m3",
            "author": "customer",
            "text": "Merci !",
            "internal_note": False,
            "created_at": "2024-11-03T09:00:00+01:00",
        }
    )
    more = client.post("/api/imports/conversations", later, "application/json", **headers)
    assert more.status_code == 200 and more.json()["messages_added"] == 1
    assert conversation.messages.count() == 3


def test_the_api_says_why_a_conversation_cannot_be_imported(client, admin):
    _, key = ApiToken.issue(admin, "import")
    nobody = past_conversation(customer={"external_id": "C-0", "email": "pas-une-adresse"})
    response = client.post(
        "/api/imports/conversations",
        nobody,
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400
    assert "no usable e-mail, phone or customer number" in response.json()["detail"]
