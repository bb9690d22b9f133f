"""Brand administrators configure the assistant from the console (settings, intents, articles)."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comptoir.assistant.configure import request_training
from comptoir.assistant.metrics import assistant_rates, intent_rates
from comptoir.assistant.models import (
    AssistantJob,
    AssistantSettings,
    Intent,
    JobStatus,
    KnowledgeArticle,
    Outcome,
    TrainedModel,
)
from comptoir.assistant.retrieval import top_passages
from comptoir.tenancy.models import Role
from tests.factories import ingest_chat, make_agent, make_brand
from tests.test_assistant import setup_assistant, write

PUBLIC_ENDPOINT = "https://93.184.216.34/api"  # an IP literal: checked without DNS


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def intent_data(**overrides) -> dict:
    data = {
        "name": "order_tracking",
        "label": "Suivi de commande",
        # Blank lines, padding and a repeated phrase are cleaned up.
        "training_phrases_fr": "Où est ma commande ?\n\n  Suivi de mon colis  \r\n"
        "Où est ma commande ?",
        "training_phrases_en": "Where is my order?",
        "answer_fr": "Votre commande arrive.",
        "answer_en": "Your order is on its way.",
        "action": "order_status",
        "automatable": "on",
    }
    data.update(overrides)
    return data


def settings_data(**overrides) -> dict:
    data = {
        "enabled": "on",
        "confidence_threshold": "0.65",
        "answer_channels": ["webchat", "email"],
        "action_base_url": PUBLIC_ENDPOINT,
        "timeout_seconds": "4",
    }
    data.update(overrides)
    return data


def pending_retrain(brand) -> bool:
    return TrainedModel.objects.filter(brand=brand, requested_at__isnull=False).exists()


def test_admin_sees_settings_intents_articles_and_training_status(admin_client, brand):
    Intent.objects.create(
        brand=brand,
        name="hours",
        label="Horaires <b>",
        training_phrases_fr=["horaires", "ouvert quand"],
        training_phrases_en=["opening hours"],
        action="",
        automatable=True,
    )
    request_training(brand.pk)  # what saving it in the console does
    KnowledgeArticle.objects.create(brand=brand, title="Retours <script>", body="x", language="en")
    response = admin_client.get(reverse("assistant:console"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Horaires &lt;b&gt;" in html and "Horaires <b>" not in html
    assert "Retours &lt;script&gt;" in html
    intent_row = html.split('id="intent-')[1].split("</tr>")[0]
    assert "<td>3</td>" in intent_row  # 2 French + 1 English phrases
    assert "Retraining pending" in html  # saving the intent asked for training
    assert 'name="action_base_url"' in html
    assert 'name="allow_private_addresses"' not in html  # operator-only


def test_admin_creates_edits_and_deletes_an_intent_and_the_brand_is_retrained(admin_client, brand):
    response = admin_client.post(reverse("assistant:intent_create"), intent_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("assistant:console")
    intent = Intent.objects.get(brand=brand, name="order_tracking")
    assert intent.training_phrases_fr == ["Où est ma commande ?", "Suivi de mon colis"]
    assert intent.training_phrases_en == ["Where is my order?"]
    assert intent.action == "order_status" and intent.automatable
    assert pending_retrain(brand)

    # The worker trained it; editing marks it again.
    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    edit_url = reverse("assistant:intent_edit", args=[intent.pk])
    page = admin_client.get(edit_url)
    assert "Où est ma commande ?\nSuivi de mon colis" in page.content.decode()
    response = admin_client.post(
        edit_url, intent_data(training_phrases_en="Where is my parcel?", automatable="")
    )
    assert response.status_code == 302
    intent.refresh_from_db()
    assert intent.training_phrases_en == ["Where is my parcel?"] and not intent.automatable
    assert pending_retrain(brand)

    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    response = admin_client.post(reverse("assistant:intent_delete", args=[intent.pk]))
    assert response.status_code == 302
    assert not Intent.objects.filter(pk=intent.pk).exists()
    assert pending_retrain(brand)


def test_intent_without_phrases_or_with_a_taken_name_is_refused(admin_client, brand):
    response = admin_client.post(
        reverse("assistant:intent_create"),
        intent_data(training_phrases_fr="  \n ", training_phrases_en=""),
    )
    assert response.status_code == 400
    assert "at least one training phrase" in response.content.decode()
    assert not Intent.objects.exists()
    assert not pending_retrain(brand)

    Intent.objects.create(brand=brand, name="order_tracking", training_phrases_fr=["x"])
    response = admin_client.post(reverse("assistant:intent_create"), intent_data())
    assert response.status_code == 400
    assert "already has an intent with this name" in response.content.decode()

    response = admin_client.post(reverse("assistant:intent_create"), intent_data(action="rm -rf"))
    assert response.status_code == 400
    assert Intent.objects.filter(brand=brand).count() == 1


def test_same_intent_name_is_fine_in_another_brand(admin_client, other_brand):
    Intent.objects.create(brand=other_brand, name="order_tracking", training_phrases_fr=["x"])
    response = admin_client.post(reverse("assistant:intent_create"), intent_data())
    assert response.status_code == 302


def test_admin_creates_edits_and_deletes_an_article_used_at_once(admin_client, brand):
    body = (
        "# Retours\n\nVous pouvez retourner un article sous 30 jours, remboursement sous 5 jours."
    )
    response = admin_client.post(
        reverse("assistant:article_create"),
        {"title": "Retours", "language": "fr", "body": body, "published": "on"},
    )
    assert response.status_code == 302
    article = KnowledgeArticle.objects.get(brand=brand)
    # Articles need no training: the next question already finds the passage.
    assert top_passages(brand.pk, "fr", "délai de remboursement")[0].article_id == article.pk

    edit_url = reverse("assistant:article_edit", args=[article.pk])
    response = admin_client.post(
        edit_url, {"title": "Returns", "language": "en", "body": body, "published": ""}
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.language, article.published) == ("Returns", "en", False)
    assert top_passages(brand.pk, "en", "remboursement") == []  # unpublished

    response = admin_client.post(reverse("assistant:article_delete", args=[article.pk]))
    assert response.status_code == 302
    assert not KnowledgeArticle.objects.exists()


def test_article_body_is_shown_escaped_and_validated(admin_client, brand):
    article = KnowledgeArticle.objects.create(
        brand=brand, title="t", body="<img src=x onerror=alert(1)> **gras**"
    )
    html = admin_client.get(reverse("assistant:article_edit", args=[article.pk])).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    response = admin_client.post(
        reverse("assistant:article_create"), {"title": "", "language": "de", "body": ""}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "language", "body"}


def test_admin_saves_settings(admin_client, brand):
    response = admin_client.post(reverse("assistant:settings_save"), settings_data())
    assert response.status_code == 302
    settings = AssistantSettings.objects.get(brand=brand)
    assert settings.enabled and settings.confidence_threshold == 0.65
    assert settings.answer_channels == ["webchat", "email"]
    assert settings.action_base_url == PUBLIC_ENDPOINT and settings.timeout_seconds == 4
    assert not settings.allow_private_addresses
    page = admin_client.get(reverse("assistant:console")).content.decode()
    assert "Assistant settings saved." in page


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/api", "private or local address"),
        ("http://169.254.169.254/latest", "private or local address"),
        ("ftp://93.184.216.34/api", "only http and https"),
        ("https://user:pw@93.184.216.34/api", "credentials"),
        ("not a url", "Enter a valid URL"),
    ],
)
def test_settings_refuse_a_bad_or_private_endpoint(admin_client, brand, url, reason):
    response = admin_client.post(
        reverse("assistant:settings_save"), settings_data(action_base_url=url)
    )
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not AssistantSettings.objects.filter(brand=brand).exists()


def test_settings_refuse_bad_threshold_timeout_and_channel(admin_client, brand):
    response = admin_client.post(
        reverse("assistant:settings_save"),
        settings_data(confidence_threshold="1.5", timeout_seconds="60", answer_channels=["phone"]),
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {
        "confidence_threshold",
        "timeout_seconds",
        "answer_channels",
    }


def test_only_the_operator_allows_private_addresses(admin_client, brand):
    AssistantSettings.objects.create(brand=brand, allow_private_addresses=True)
    private = settings_data(action_base_url="http://127.0.0.1:8000/demo/api")
    response = admin_client.post(reverse("assistant:settings_save"), private)
    assert response.status_code == 302  # the operator's choice is honoured
    AssistantSettings.objects.filter(brand=brand).update(allow_private_addresses=False)
    # Posting the flag does not set it: it is not a field of the console form.
    response = admin_client.post(
        reverse("assistant:settings_save"), {**private, "allow_private_addresses": "on"}
    )
    assert response.status_code == 400
    assert not AssistantSettings.objects.get(brand=brand).allow_private_addresses


ADMIN_URLS = [
    ("get", "assistant:console", None),
    ("post", "assistant:settings_save", None),
    ("get", "assistant:intent_create", None),
    ("post", "assistant:intent_create", None),
    ("get", "assistant:intent_edit", "intent"),
    ("post", "assistant:intent_edit", "intent"),
    ("post", "assistant:intent_delete", "intent"),
    ("get", "assistant:article_create", None),
    ("post", "assistant:article_create", None),
    ("get", "assistant:article_edit", "article"),
    ("post", "assistant:article_edit", "article"),
    ("post", "assistant:article_delete", "article"),
]


@pytest.fixture
def objects(brand):
    intent = Intent.objects.create(brand=brand, name="hours", training_phrases_fr=["horaires"])
    article = KnowledgeArticle.objects.create(brand=brand, title="Horaires", body="9h-19h")
    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    return {"intent": intent, "article": article}


def _url(name: str, target: str | None, objects: dict) -> str:
    return reverse(name, args=[objects[target].pk]) if target else reverse(name)


def _unchanged(brand, objects) -> None:
    assert Intent.objects.get(pk=objects["intent"].pk).training_phrases_fr == ["horaires"]
    assert KnowledgeArticle.objects.get(pk=objects["article"].pk).title == "Horaires"
    assert Intent.objects.filter(brand=brand).count() == 1
    assert not AssistantSettings.objects.exists()
    assert not pending_retrain(brand)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
@pytest.mark.parametrize(("method", "name", "target"), ADMIN_URLS)
def test_agents_and_supervisors_are_refused(client, brand, objects, role, method, name, target):
    client.force_login(make_agent(brand, role).user)
    post = {**intent_data(), **settings_data(), "title": "x", "language": "fr", "body": "x"}
    url = _url(name, target, objects)
    response = client.post(url, post) if method == "post" else client.get(url)
    assert response.status_code == 403
    _unchanged(brand, objects)


@pytest.mark.parametrize(("method", "name", "target"), [u for u in ADMIN_URLS if u[2]])
def test_another_brands_admin_gets_404(client, brand, other_brand, objects, method, name, target):
    client.force_login(make_agent(other_brand, Role.ADMIN).user)
    url = _url(name, target, objects)
    post = {**intent_data(), "title": "x", "language": "fr", "body": "x"}
    response = client.post(url, post) if method == "post" else client.get(url)
    assert response.status_code == 404
    _unchanged(brand, objects)


def test_another_brands_admin_sees_only_their_own(client, other_brand, objects):
    client.force_login(make_agent(other_brand, Role.ADMIN).user)
    html = client.get(reverse("assistant:console")).content.decode()
    assert "Horaires" not in html and "hours" not in html


@pytest.mark.parametrize(("method", "name", "target"), ADMIN_URLS)
def test_anonymous_is_sent_to_login(client, brand, objects, method, name, target):
    url = _url(name, target, objects)
    response = client.post(url, intent_data()) if method == "post" else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))
    _unchanged(brand, objects)


def test_forms_need_the_csrf_token(brand, admin):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    response = client.post(reverse("assistant:intent_create"), intent_data())
    assert response.status_code == 403
    assert not Intent.objects.exists()


def test_the_configuration_link_is_for_administrators_only(client, brand, admin):
    """Administrators reach it from Settings (the top bar's one entry for them)."""
    link = f'href="{reverse("assistant:console")}"'
    client.force_login(admin.user)
    assert link in client.get(reverse("administration:brand")).content.decode()
    client.force_login(make_agent(brand, Role.SUPERVISOR).user)
    assert link not in client.get(reverse("console:inbox")).content.decode()


def test_overview_shows_containment_handoff_and_why(admin_client, brand):
    page = admin_client.get(reverse("assistant:console"))
    assert b"has not handled any conversation yet" in page.content
    setup_assistant(brand)
    write(brand, "What are your opening hours?", visitor="1" * 32)  # answered
    write(brand, "I want to talk to a real person", visitor="2" * 32)  # handed off
    write(brand, "Can I speak to an agent please", visitor="3" * 32)  # handed off
    page = admin_client.get(reverse("assistant:console"))
    results = page.content.decode().split('id="assistant-results"')[1].split("</section>")[0]
    assert "3 conversations handled by the assistant" in results
    assert "1 answered without a person" in results and "(33 %)" in results
    assert "2 handed to a person" in results and "(67 %)" in results
    assert "The customer asked for a person." in results


def test_supervisors_read_the_results_agents_do_not(client, brand, agent):
    setup_assistant(brand)
    write(brand, "I want to talk to a real person", visitor="5" * 32)
    url = reverse("assistant:results")
    client.force_login(agent.user)
    assert client.get(url).status_code == 403
    assert b"assistant:results" not in client.get(reverse("console:inbox")).content
    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    page = client.get(url)
    assert page.status_code == 200
    assert "1 handed to a person" in page.content.decode()
    french = client.get(url, headers={"Accept-Language": "fr"}).content.decode()
    assert "1 transmise à un conseiller" in french and "0 résolue sans conseiller" in french
    assert f'href="{url}"'.encode() in client.get(reverse("console:inbox")).content
    # Configuring stays with administrators.
    assert client.get(reverse("assistant:console")).status_code == 403


# Results by intent


def record(
    brand, visitor: str, outcome: str, intent: str = "", *, at: datetime | None = None
) -> AssistantJob:
    """A processed assistant job on a new message of ``visitor``'s conversation (one per visitor).

    The brand has no assistant switched on, so ingest queues nothing itself.
    """
    message = ingest_chat(brand, f"{outcome} {intent}", visitor_id=visitor * 32)
    at = at or timezone.now()
    return AssistantJob.objects.create(
        brand=brand,
        message=message,
        conversation=message.conversation,
        status=JobStatus.DONE,
        created_at=at,
        processed_at=at,
        outcome=outcome,
        reason="failed_twice" if outcome == Outcome.HANDOFF else "",
        intent=intent,
    )


def rows(results) -> list[tuple]:
    return [(r.code, r.name, r.conversations, r.contained, r.handed_off) for r in results]


@pytest.fixture
def intent_jobs(brand, other_brand):
    """Eight conversations of ``brand`` the assistant handled, and some it did not count.

    By intent: opening_hours 4 (1 handed off), returns 2 (1 handed off), not
    recognised 2 (1 handed off), a deleted intent 1; conversation 5 counts twice.
    """
    Intent.objects.create(brand=brand, name="opening_hours", label="Opening hours")
    Intent.objects.create(brand=brand, name="returns", label="Returns & refunds")
    Intent.objects.create(brand=other_brand, name="returns", label="Rival returns")
    ANSWERED, HANDOFF = Outcome.ANSWERED, Outcome.HANDOFF
    record(brand, "1", ANSWERED, "opening_hours")
    record(brand, "2", ANSWERED, "opening_hours")  # answered, then handed off:
    record(brand, "2", HANDOFF)  # without intent: a handoff of opening_hours
    record(brand, "3", ANSWERED, "opening_hours")
    record(brand, "3", ANSWERED, "opening_hours")  # two jobs, one conversation
    record(brand, "4", ANSWERED)  # a greeting first, counted with
    record(brand, "4", ANSWERED, "returns")  # the question: returns, contained
    record(brand, "5", HANDOFF, "returns")  # each intent its own outcome: returns handed
    record(brand, "5", ANSWERED, "opening_hours")  # off, opening_hours contained
    record(brand, "6", HANDOFF)  # not recognised, handed off
    record(brand, "7", ANSWERED)  # not recognised, contained
    record(brand, "8", ANSWERED, "gift_cards")  # an intent deleted since: its code
    # Not handled by the assistant: not counted.
    record(brand, "9", Outcome.CLASSIFIED, "opening_hours")
    record(brand, "a", Outcome.SKIPPED, "returns")
    # Another brand's, even with the same intent code.
    record(other_brand, "b", HANDOFF, "returns")
    record(other_brand, "c", ANSWERED, "opening_hours")
    record(other_brand, "d", HANDOFF)


EXPECTED_INTENTS = [
    ("opening_hours", "Opening hours", 4, 3, 1),
    ("returns", "Returns & refunds", 2, 1, 1),
    ("", "", 2, 1, 1),  # not recognised, after the intents of the same volume
    ("gift_cards", "gift_cards", 1, 1, 0),
]


def test_intent_rates_count_a_conversation_under_each_of_its_intents(
    brand, intent_jobs, django_assert_num_queries
):
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(seconds=1)
    with django_assert_num_queries(1):
        results = intent_rates(brand.pk, start, end)
    assert rows(results) == EXPECTED_INTENTS
    assert [r.containment_rate for r in results] == [0.75, 0.5, 0.5, 1.0]
    # Every handoff is charged to one intent; conversation 5 counts under two.
    totals = assistant_rates(brand.pk, start, end)
    assert sum(r.handed_off for r in results) == totals.handed_off == 3
    assert sum(r.conversations for r in results) == totals.conversations + 1 == 9


def test_intent_rates_are_per_brand(brand, other_brand, intent_jobs):
    now = timezone.now()
    results = intent_rates(other_brand.pk, now - timedelta(hours=1), now + timedelta(seconds=1))
    assert rows(results) == [
        ("opening_hours", "opening_hours", 1, 1, 0),  # no such intent in that brand: the code
        ("returns", "Rival returns", 1, 0, 1),
        ("", "", 1, 0, 1),
    ]
    assert intent_rates(make_brand("Empty").pk, now - timedelta(hours=1), now) == []


def test_intent_rates_window_is_start_included_end_excluded(brand):
    start = timezone.now() - timedelta(days=3)
    end = start + timedelta(days=1)
    Intent.objects.create(brand=brand, name="returns", label="Returns")
    record(brand, "1", Outcome.ANSWERED, "returns", at=start)  # counted
    record(brand, "2", Outcome.HANDOFF, "returns", at=end)  # not counted
    record(brand, "3", Outcome.HANDOFF, "returns", at=start - timedelta(microseconds=1))
    # Only the jobs in the window count: this conversation's first intent in it is hours.
    record(brand, "4", Outcome.ANSWERED, "returns", at=start - timedelta(hours=1))
    record(brand, "4", Outcome.ANSWERED, "hours", at=start + timedelta(hours=1))
    record(brand, "4", Outcome.HANDOFF, "returns", at=end + timedelta(hours=1))
    assert rows(intent_rates(brand.pk, start, end)) == [
        ("hours", "hours", 1, 1, 0),
        ("returns", "Returns", 1, 1, 0),
    ]
    # From ``end`` on: the two handoffs, one conversation each.
    assert rows(intent_rates(brand.pk, end, end + timedelta(days=1))) == [
        ("returns", "Returns", 2, 0, 2)
    ]


def intent_table(html: str) -> list[list[str]]:
    """The cells of the results-by-intent table, per row (tags stripped)."""
    table = html.split('id="intent-results"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    cells = (re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in body.split("</tr>"))
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row] for row in cells if row]


EXPECTED_TABLE = [
    ["Opening hours opening_hours", "4", "3", "1", "75 %"],
    ["Returns &amp; refunds returns", "2", "1", "1", "50 %"],
    ["Not recognised", "2", "1", "1", "50 %"],
    ["gift_cards", "1", "1", "0", "100 %"],
]


def test_overview_and_results_show_the_results_by_intent(client, brand, admin, intent_jobs):
    old = timezone.now() - timedelta(days=31)  # outside the 30 days shown
    record(brand, "e", Outcome.HANDOFF, "opening_hours", at=old)
    client.force_login(admin.user)
    page = client.get(reverse("assistant:console"))
    results = page.content.decode().split('id="assistant-results"')[1].split("</section>")[0]
    assert "8 conversations handled by the assistant" in results
    assert intent_table(results) == EXPECTED_TABLE
    client.force_login(make_agent(brand, Role.SUPERVISOR).user)
    page = client.get(reverse("assistant:results"))
    assert page.status_code == 200
    assert intent_table(page.content.decode()) == EXPECTED_TABLE
    client.force_login(make_agent(brand, Role.AGENT).user)
    assert client.get(reverse("assistant:results")).status_code == 403
    assert client.get(reverse("assistant:console")).status_code == 403


def test_another_brands_pages_show_only_their_own_intents(client, other_brand, intent_jobs):
    for role, url in ((Role.ADMIN, "assistant:console"), (Role.SUPERVISOR, "assistant:results")):
        client.force_login(make_agent(other_brand, role).user)
        html = client.get(reverse(url)).content.decode()
        assert intent_table(html) == [
            ["opening_hours", "1", "1", "0", "100 %"],
            ["Rival returns returns", "1", "0", "1", "0 %"],
            ["Not recognised", "1", "0", "1", "0 %"],
        ]
        assert "Returns &amp; refunds" not in html and "gift_cards" not in html


def test_no_table_by_intent_before_the_assistant_handled_anything(admin_client, brand):
    record(brand, "1", Outcome.CLASSIFIED, "opening_hours")
    html = admin_client.get(reverse("assistant:console")).content.decode()
    assert "has not handled any conversation yet" in html
    assert 'id="intent-results"' not in html


def test_results_by_intent_from_real_assistant_jobs(admin_client, brand):
    setup_assistant(brand)
    write(brand, "What are your opening hours?", visitor="1" * 32)  # answered
    write(brand, "Quels sont vos horaires d'ouverture ?", visitor="2" * 32)
    write(brand, "ça ne répond pas à ma question", visitor="2" * 32)
    write(brand, "not what I asked", visitor="2" * 32)  # answered, then handed off
    html = admin_client.get(reverse("assistant:console")).content.decode()
    assert intent_table(html) == [["Opening hours opening_hours", "2", "1", "1", "50 %"]]
