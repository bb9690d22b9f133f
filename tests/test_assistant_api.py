"""The assistant's configuration in the REST API: the console's rules, over JSON.

Administrators' tokens only (403 for agents and supervisors, 404 for another
brand's objects); validation by the console's forms (400 with their reasons);
saves through ``configure`` (logged, retraining requested); a prediction to
try the brand's real trained model.
"""

import json
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comptoir.assistant import engine
from comptoir.assistant.models import (
    AssistantSettings,
    Intent,
    KnowledgeArticle,
    Outcome,
    TrainedModel,
)
from comptoir.assistant.retrieval import top_passages
from comptoir.conversations.models import Conversation, Message
from comptoir.tenancy.models import ApiToken, Role, Team
from tests.factories import make_agent
from tests.test_assistant import setup_assistant, write
from tests.test_assistant_admin import record

PUBLIC_ENDPOINT = "https://93.184.216.34/api"  # an IP literal: checked without DNS


class TokenClient:
    """A test client whose every request carries one API key, with JSON bodies."""

    def __init__(self, client, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, url, **params):
        return self.client.get(url, params, headers=self.headers)

    def delete(self, url):
        return self.client.delete(url, headers=self.headers)

    def post(self, url, body=None):
        return self._send("post", url, body)

    def put(self, url, body=None):
        return self._send("put", url, body)

    def _send(self, method, url, body):
        return getattr(self.client, method)(
            url, json.dumps(body or {}), content_type="application/json", headers=self.headers
        )


def token_client(client, membership) -> TokenClient:
    return TokenClient(client, ApiToken.issue(membership, "tests")[1])


@pytest.fixture
def api(client, admin):
    return token_client(client, admin)


def intent_body(**overrides) -> dict:
    body = {
        "name": "order_tracking",
        "label": "Suivi de commande",
        # Padding, a blank and a repeated phrase are cleaned up as in the console.
        "training_phrases_fr": [
            "Où est ma commande ?",
            "  Suivi de mon colis  ",
            "",
            "Où est ma commande ?",
        ],
        "training_phrases_en": ["Where is my order?"],
        "answer_fr": "Votre commande arrive.",
        "answer_en": "Your order is on its way.",
        "action": "order_status",
        "automatable": True,
    }
    body.update(overrides)
    return body


def settings_body(**overrides) -> dict:
    body = {
        "enabled": True,
        "confidence_threshold": 0.65,
        "answer_channels": ["webchat", "email"],
        "action_base_url": PUBLIC_ENDPOINT,
        "timeout_seconds": 4,
    }
    body.update(overrides)
    return body


def article_body(**overrides) -> dict:
    body = {
        "title": "Retours",
        "language": "fr",
        "body": "# Retours\n\nVous pouvez retourner un article sous 30 jours, "
        "remboursement sous 5 jours.",
        "published": True,
    }
    body.update(overrides)
    return body


def pending_retrain(brand) -> bool:
    return TrainedModel.objects.filter(brand=brand, requested_at__isnull=False).exists()


def intent_url(intent) -> str:
    return reverse("api:get_intent", kwargs={"intent_id": intent.pk})


def article_url(article) -> str:
    return reverse("api:get_article", kwargs={"article_id": article.pk})


# Settings


def test_settings_read_defaults_without_writing_then_save(api, brand):
    response = api.get(reverse("api:get_assistant_settings"))
    assert response.status_code == 200
    assert response.json() == {
        "enabled": False,
        "confidence_threshold": 0.7,
        "answer_channels": ["webchat", "email", "whatsapp", "messenger"],
        "action_base_url": "",
        "timeout_seconds": 5.0,
        "allow_private_addresses": False,
        "updated_at": None,
        "training": {"trained_at": None, "retraining_pending": False, "last_error": ""},
    }
    assert not AssistantSettings.objects.exists()

    response = api.put(reverse("api:update_assistant_settings"), settings_body())
    assert response.status_code == 200, response.content
    saved = AssistantSettings.objects.get(brand=brand)
    assert saved.enabled and saved.confidence_threshold == 0.65
    assert saved.answer_channels == ["webchat", "email"]
    assert saved.action_base_url == PUBLIC_ENDPOINT and saved.timeout_seconds == 4
    assert response.json()["updated_at"] is not None
    assert api.get(reverse("api:get_assistant_settings")).json()["enabled"] is True


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
def test_settings_refuse_a_bad_or_private_endpoint_with_the_forms_reason(api, brand, url, reason):
    response = api.put(reverse("api:update_assistant_settings"), settings_body(action_base_url=url))
    assert response.status_code == 400
    answer = response.json()
    assert reason in " ".join(answer["errors"]["action_base_url"])
    assert reason in answer["detail"]
    assert not AssistantSettings.objects.filter(brand=brand).exists()


def test_settings_refuse_bad_threshold_timeout_and_channel(api, brand):
    response = api.put(
        reverse("api:update_assistant_settings"),
        settings_body(confidence_threshold=1.5, timeout_seconds=60, answer_channels=["phone"]),
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "confidence_threshold",
        "timeout_seconds",
        "answer_channels",
    }
    assert not AssistantSettings.objects.exists()


def test_settings_of_the_wrong_type_or_missing_are_422(api, brand):
    url = reverse("api:update_assistant_settings")
    assert api.put(url, settings_body(answer_channels="webchat")).status_code == 422
    body = settings_body()
    del body["enabled"]
    assert api.put(url, body).status_code == 422
    assert not AssistantSettings.objects.exists()


def test_only_the_operator_allows_private_addresses(api, brand):
    AssistantSettings.objects.create(brand=brand, allow_private_addresses=True)
    url = reverse("api:update_assistant_settings")
    private = settings_body(action_base_url="http://127.0.0.1:8000/demo/api")
    response = api.put(url, private)
    assert response.status_code == 200  # the operator's choice is honoured
    assert response.json()["allow_private_addresses"] is True

    AssistantSettings.objects.filter(brand=brand).update(allow_private_addresses=False)
    # Sending the switch does not set it: it is not part of the API's input.
    response = api.put(url, {**private, "allow_private_addresses": True})
    assert response.status_code == 400
    assert not AssistantSettings.objects.get(brand=brand).allow_private_addresses


# Intents


def test_admin_creates_reads_replaces_and_deletes_an_intent_and_the_brand_is_retrained(
    api, brand, admin, caplog
):
    caplog.set_level(logging.INFO, logger="comptoir.assistant.configure")
    response = api.post(reverse("api:create_intent"), intent_body())
    assert response.status_code == 201, response.content
    created = response.json()
    intent = Intent.objects.get(brand=brand, name="order_tracking")
    assert created == {
        "id": intent.pk,
        "name": "order_tracking",
        "label": "Suivi de commande",
        "training_phrases_fr": ["Où est ma commande ?", "Suivi de mon colis"],
        "training_phrases_en": ["Where is my order?"],
        "answer_fr": "Votre commande arrive.",
        "answer_en": "Your order is on its way.",
        "action": "order_status",
        "automatable": True,
        "team": None,
    }
    assert intent.training_phrases_fr == ["Où est ma commande ?", "Suivi de mon colis"]
    assert pending_retrain(brand)
    assert f"intent {intent.pk} of brand {brand.pk} saved by {admin.user_id}" in caplog.text

    assert api.get(intent_url(intent)).json() == created
    listed = api.get(reverse("api:list_intents")).json()
    assert listed["count"] == 1 and listed["items"] == [created]

    # PUT replaces: what is left out takes its default.
    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    response = api.put(
        intent_url(intent),
        {
            "name": "order_tracking",
            "label": "Suivi",
            "training_phrases_en": ["Where is my parcel?"],
        },
    )
    assert response.status_code == 200, response.content
    intent.refresh_from_db()
    assert intent.label == "Suivi"
    assert (intent.training_phrases_fr, intent.training_phrases_en) == ([], ["Where is my parcel?"])
    assert (intent.action, intent.automatable, intent.answer_fr) == ("", False, "")
    assert pending_retrain(brand)

    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    response = api.delete(intent_url(intent))
    assert response.status_code == 204
    assert not Intent.objects.filter(pk=intent.pk).exists()
    assert pending_retrain(brand)
    assert f"intent {intent.pk} of brand {brand.pk} deleted by {admin.user_id}" in caplog.text
    assert api.get(intent_url(intent)).status_code == 404


def test_intent_refusals_are_the_forms(api, brand):
    url = reverse("api:create_intent")
    response = api.post(url, intent_body(training_phrases_fr=["  ", ""], training_phrases_en=[]))
    assert response.status_code == 400
    answer = response.json()
    assert list(answer["errors"]) == ["__all__"]
    assert "at least one training phrase" in answer["detail"]

    Intent.objects.create(brand=brand, name="order_tracking", training_phrases_fr=["x"])
    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    response = api.post(url, intent_body())
    assert response.status_code == 400
    assert "already has an intent with this name" in response.json()["errors"]["name"][0]

    response = api.post(url, intent_body(name="other", action="rm -rf"))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["action"]

    response = api.post(url, intent_body(name="pas un slug !", label=""))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "label"}

    too_many = [f"phrase {n}" for n in range(501)]
    response = api.post(url, intent_body(name="other", training_phrases_fr=too_many))
    assert response.status_code == 400
    assert "At most 500 phrases" in response.json()["errors"]["training_phrases_fr"][0]

    assert Intent.objects.filter(brand=brand).count() == 1
    assert not pending_retrain(brand)


def test_intent_phrases_are_lists_of_single_line_strings(api, brand):
    url = reverse("api:create_intent")
    # A line break would silently make two phrases out of one: refused instead.
    assert api.post(url, intent_body(training_phrases_fr=["un\ndeux"])).status_code == 422
    assert api.post(url, intent_body(training_phrases_fr="Où est ma commande ?")).status_code == 422
    assert api.post(url, {"label": "sans nom", "training_phrases_fr": ["x"]}).status_code == 422
    assert not Intent.objects.exists()


def test_same_intent_name_is_fine_in_another_brand(api, other_brand):
    Intent.objects.create(brand=other_brand, name="order_tracking", training_phrases_fr=["x"])
    assert api.post(reverse("api:create_intent"), intent_body()).status_code == 201


def test_an_intent_hands_off_to_one_of_the_brands_own_teams(api, brand, other_brand):
    team = Team.objects.create(brand=brand, name="Livraisons")
    foreign_team = Team.objects.create(brand=other_brand, name="Concurrent")
    url = reverse("api:create_intent")

    response = api.post(url, intent_body(team_id=foreign_team.pk))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["team_id"]
    assert not Intent.objects.exists()

    response = api.post(url, intent_body(team_id=team.pk))
    assert response.status_code == 201
    assert response.json()["team"] == {"id": team.pk, "name": "Livraisons"}
    intent = Intent.objects.get(brand=brand)
    assert intent.team == team

    response = api.put(intent_url(intent), intent_body(team_id=None))
    assert response.status_code == 200 and response.json()["team"] is None
    intent.refresh_from_db()
    assert intent.team is None


# Articles


def test_admin_creates_replaces_and_deletes_an_article_used_at_once(api, brand):
    response = api.post(reverse("api:create_article"), article_body())
    assert response.status_code == 201, response.content
    article = KnowledgeArticle.objects.get(brand=brand)
    assert response.json()["id"] == article.pk and response.json()["published"] is True
    # Articles need no training: the next question already finds the passage.
    assert top_passages(brand.pk, "fr", "délai de remboursement")[0].article_id == article.pk
    assert api.get(article_url(article)).json()["title"] == "Retours"
    listed = api.get(reverse("api:list_articles")).json()
    assert [item["id"] for item in listed["items"]] == [article.pk]

    response = api.put(
        article_url(article), article_body(title="Returns", language="en", published=False)
    )
    assert response.status_code == 200
    article.refresh_from_db()
    assert (article.title, article.language, article.published) == ("Returns", "en", False)
    assert top_passages(brand.pk, "en", "remboursement") == []  # unpublished

    assert api.delete(article_url(article)).status_code == 204
    assert not KnowledgeArticle.objects.exists()


def test_article_refusals_are_the_forms(api, brand):
    response = api.post(
        reverse("api:create_article"), article_body(title="", language="de", body="")
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "language", "body"}
    article = KnowledgeArticle.objects.create(brand=brand, title="t", body="b")
    response = api.put(article_url(article), article_body(language="xx"))
    assert response.status_code == 400
    article.refresh_from_db()
    assert (article.title, article.language) == ("t", "fr")


# Prediction


def test_prediction_needs_a_trained_model(api, brand):
    url = reverse("api:predict_intent")
    response = api.post(url, {"text": "Où est ma commande ?"})
    assert response.status_code == 409
    assert "no trained model" in response.json()["detail"]

    # One intent cannot be trained: the reason is given.
    Intent.objects.create(brand=brand, name="only", training_phrases_fr=["seule"])
    engine.train_brand(brand.pk)
    response = api.post(url, {"text": "Où est ma commande ?"})
    assert response.status_code == 409
    assert "at least two intents" in response.json()["detail"]


def test_prediction_is_the_assistants_analysis_and_stores_nothing(api, brand):
    setup_assistant(brand)
    url = reverse("api:predict_intent")
    order = Intent.objects.get(brand=brand, name="order_tracking")

    answer = api.post(url, {"text": "Bonjour, où en est ma commande MD-10482 ?"}).json()
    assert answer["intent"] == {"id": order.pk, "name": "order_tracking", "label": order.label}
    assert answer["language"] == "fr"
    assert 0 < answer["confidence"] <= 1 and not answer["low_confidence"]
    assert answer["training"]["trained_at"] and not answer["training"]["retraining_pending"]

    answer = api.post(url, {"text": "What are your opening hours on Saturday?"}).json()
    assert (answer["intent"]["name"], answer["language"]) == ("opening_hours", "en")

    answer = api.post(
        url, {"text": "Quelle est la capitale de l'Australie et combien pèse un éléphant ?"}
    ).json()
    assert answer["low_confidence"]

    # The brand's threshold decides, as for real messages.
    AssistantSettings.objects.filter(brand=brand).update(confidence_threshold=1.01)
    answer = api.post(url, {"text": "Quels sont vos horaires d'ouverture ?"}).json()
    assert answer["intent"]["name"] == "opening_hours" and answer["low_confidence"]

    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert api.post(url, {"text": "   "}).status_code == 422


def test_prediction_tells_when_a_retraining_is_pending(api, brand):
    setup_assistant(brand)
    api.post(reverse("api:create_intent"), intent_body(name="new_one"))
    answer = api.post(reverse("api:predict_intent"), {"text": "Où est ma commande ?"}).json()
    assert answer["training"]["retraining_pending"]
    assert answer["intent"]["name"] == "order_tracking"  # the previous model still answers


# Who may do what

# (method, url name, target, body): every endpoint of the router.
ENDPOINTS = [
    ("get", "api:get_assistant_settings", None, None),
    ("put", "api:update_assistant_settings", None, settings_body()),
    ("get", "api:list_intents", None, None),
    ("post", "api:create_intent", None, intent_body(name="new_one")),
    ("get", "api:get_intent", "intent", None),
    ("put", "api:update_intent", "intent", intent_body(name="hours", label="changed")),
    ("delete", "api:delete_intent", "intent", None),
    ("get", "api:list_articles", None, None),
    ("post", "api:create_article", None, article_body()),
    ("get", "api:get_article", "article", None),
    ("put", "api:update_article", "article", article_body(title="changed")),
    ("delete", "api:delete_article", "article", None),
    ("post", "api:predict_intent", None, {"text": "horaires"}),
    ("get", "api:get_metrics", None, None),
]


@pytest.fixture
def objects(brand):
    intent = Intent.objects.create(brand=brand, name="hours", training_phrases_fr=["horaires"])
    article = KnowledgeArticle.objects.create(brand=brand, title="Horaires", body="9h-19h")
    TrainedModel.objects.filter(brand=brand).update(requested_at=None)
    return {"intent": intent, "article": article}


def _url(name: str, target: str | None, objects: dict) -> str:
    if target is None:
        return reverse(name)
    return reverse(name, kwargs={f"{target}_id": objects[target].pk})


def _call(api: TokenClient, method: str, url: str, body):
    return (
        api.get(url)
        if method == "get"
        else api.delete(url)
        if method == "delete"
        else (getattr(api, method)(url, body))
    )


def _unchanged(brand, objects) -> None:
    assert list(Intent.objects.values_list("brand", "name", "label")) == [(brand.pk, "hours", "")]
    assert list(KnowledgeArticle.objects.values_list("brand", "title")) == [(brand.pk, "Horaires")]
    assert not AssistantSettings.objects.exists()
    assert not pending_retrain(brand)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
@pytest.mark.parametrize(("method", "name", "target", "body"), ENDPOINTS)
def test_agents_and_supervisors_are_refused(
    client, brand, objects, role, method, name, target, body
):
    api = token_client(client, make_agent(brand, role))
    response = _call(api, method, _url(name, target, objects), body)
    assert response.status_code == 403
    assert "administrators" in response.json()["detail"]
    _unchanged(brand, objects)


def test_an_agent_is_refused_before_the_body_is_read(client, brand, objects):
    api = token_client(client, make_agent(brand, Role.AGENT))
    response = api.put(_url("api:update_intent", "intent", objects), {"not": "an intent"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "name", "target", "body"), [e for e in ENDPOINTS if e[2] is not None]
)
def test_another_brands_admin_gets_404(
    client, brand, other_brand, objects, method, name, target, body
):
    api = token_client(client, make_agent(other_brand, Role.ADMIN))
    response = _call(api, method, _url(name, target, objects), body)
    assert response.status_code == 404
    assert "horaires" not in response.content.decode().lower()
    _unchanged(brand, objects)


def test_another_brands_admin_sees_and_changes_only_their_own(client, brand, other_brand, objects):
    api = token_client(client, make_agent(other_brand, Role.ADMIN))
    assert api.get(reverse("api:list_intents")).json() == {"items": [], "count": 0}
    assert api.get(reverse("api:list_articles")).json() == {"items": [], "count": 0}
    assert api.get(reverse("api:get_assistant_settings")).json()["updated_at"] is None
    # Their own settings, intents and predictions: nothing of this brand's.
    assert api.put(reverse("api:update_assistant_settings"), settings_body()).status_code == 200
    assert api.post(reverse("api:predict_intent"), {"text": "horaires"}).status_code == 409
    assert AssistantSettings.objects.get().brand == other_brand
    assert Intent.objects.get().brand == brand


@pytest.mark.parametrize(("method", "name", "target", "body"), ENDPOINTS)
def test_no_token_is_401(client, brand, objects, method, name, target, body):
    api = TokenClient(client, "cpt_not-a-real-key")
    response = _call(api, method, _url(name, target, objects), body)
    assert response.status_code == 401
    _unchanged(brand, objects)


def test_the_endpoints_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    intent = paths["/api/assistant/intents/{intent_id}"]
    assert set(intent) == {"get", "put", "delete"}
    assert {"400", "401", "403", "404"} <= set(intent["put"]["responses"])
    assert "409" in paths["/api/assistant/predict"]["post"]["responses"]


def test_metrics_give_containment_handoff_and_reasons(api, client, brand, agent):
    setup_assistant(brand)
    write(brand, "What are your opening hours?", visitor="1" * 32)
    write(brand, "I want to talk to a real person", visitor="2" * 32)
    response = api.get("/api/assistant/metrics", days=7)
    assert response.status_code == 200
    body = response.json()
    assert (body["conversations"], body["contained"], body["handed_off"]) == (2, 1, 1)
    assert body["handoff_rate"] == 0.5 and body["handoff_reasons"] == {"asked_for_human": 1}
    assert api.get("/api/assistant/metrics", days=0).status_code == 422
    assert token_client(client, agent).get("/api/assistant/metrics").status_code == 403
    assert body["intents"] == [
        {
            "code": "opening_hours",
            "name": "Opening hours",
            "conversations": 1,
            "contained": 1,
            "handed_off": 0,
            "containment_rate": 1.0,
        },
        {
            "code": "",
            "name": "Not recognised",
            "conversations": 1,
            "contained": 0,
            "handed_off": 1,
            "containment_rate": 0.0,
        },
    ]


def test_metrics_break_the_conversations_down_by_intent(api, client, brand, other_brand):
    Intent.objects.create(brand=brand, name="returns", label="Returns")
    Intent.objects.create(brand=other_brand, name="returns", label="Rival returns")
    record(brand, "1", Outcome.ANSWERED, "returns")
    record(brand, "1", Outcome.HANDOFF)  # answered, then handed off
    record(brand, "2", Outcome.ANSWERED)  # a greeting,
    record(brand, "2", Outcome.ANSWERED, "returns")  # then the question
    record(brand, "3", Outcome.ANSWERED, "hours")  # no such intent: its code
    record(brand, "4", Outcome.ANSWERED, "returns", at=timezone.now() - timedelta(days=8))
    record(other_brand, "5", Outcome.HANDOFF, "returns")
    body = api.get("/api/assistant/metrics", days=7).json()
    assert (body["conversations"], body["contained"], body["handed_off"]) == (3, 2, 1)
    assert body["handoff_reasons"] == {"failed_twice": 1}
    assert [
        (i["code"], i["name"], i["conversations"], i["contained"], i["handed_off"])
        for i in body["intents"]
    ] == [("returns", "Returns", 2, 1, 1), ("hours", "hours", 1, 1, 0)]
    assert body["intents"][0]["containment_rate"] == 0.5
    # Over 9 days, the older conversation too.
    returns = api.get("/api/assistant/metrics", days=9).json()["intents"][0]
    assert (returns["conversations"], returns["contained"]) == (3, 2)
    # Another brand's administrator reads their own brand's only.
    rival = token_client(client, make_agent(other_brand, Role.ADMIN))
    assert rival.get("/api/assistant/metrics").json()["intents"] == [
        {
            "code": "returns",
            "name": "Rival returns",
            "conversations": 1,
            "contained": 0,
            "handed_off": 1,
            "containment_rate": 0.0,
        }
    ]


def test_metrics_without_any_handled_conversation(api, brand):
    record(brand, "1", Outcome.CLASSIFIED, "returns")
    body = api.get("/api/assistant/metrics").json()
    assert body["conversations"] == 0 and body["intents"] == []
    schema = api.client.get("/api/openapi.json").json()["components"]["schemas"]
    assert set(schema["IntentRatesOut"]["properties"]) == {
        "code",
        "name",
        "conversations",
        "contained",
        "handed_off",
        "containment_rate",
    }
