"""The assistant's configuration in the integrator API (a ninja Router registered in ``api.urls``).

What a brand's administrators do on the console pages (``console_views``),
scripted: settings, intents and knowledge-base articles, plus a prediction to
try the trained model on a sentence. The rules are the console's own:

- administrators' tokens only: the token check of this router answers 403 to
  agents and supervisors before anything is read or parsed; another brand's
  intents and articles are 404;
- input is validated by the console's forms (``SettingsForm``, ``IntentForm``,
  ``ArticleForm``), fed the JSON body, so both accept and refuse the same
  things for the same reasons (400 with the form's errors per field; 422 only
  when the JSON does not even have the documented types);
- saves and deletions go through ``configure`` (logged; an intent change asks
  for retraining through the model signal, as everywhere).

``allow_private_addresses`` is shown, never set: like the console, only
platform operators lift the guard against internal networks (Django admin).
"""

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictBool, field_validator

from comptoir.api.auth import ApiTokenAuth
from comptoir.api.endpoints import Pagination
from comptoir.api.schemas import ErrorOut, ObjectId, TextIn
from comptoir.assistant import configure, engine
from comptoir.assistant.access import access_article, access_intent
from comptoir.assistant.forms import ArticleForm, IntentForm, SettingsForm
from comptoir.assistant.metrics import assistant_rates
from comptoir.assistant.models import (
    AssistantSettings,
    ConversationState,
    Intent,
    KnowledgeArticle,
    TrainedModel,
)
from comptoir.assistant.processing import analyse
from comptoir.conversations.models import Conversation, Message
from comptoir.customers.models import Customer
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


class AdministratorTokenAuth(ApiTokenAuth):
    """An API token of one of the brand's administrators; other roles get 403.

    Checked with the token, before the body is parsed: an agent's token is
    refused the same way whatever it sends.
    """

    admin_only = True

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        membership = super().authenticate(request, token)
        return check_role(
            membership, Role.ADMIN, "Only the brand's administrators configure the assistant."
        )


assistant_router = Router(tags=["assistant"], auth=AdministratorTokenAuth())

# Documented answers besides success (401: no usable token; 403: not an administrator).
REFUSED = {401: ErrorOut, 403: ErrorOut}
NOT_FOUND = {**REFUSED, 404: ErrorOut}


class FormErrorOut(ErrorOut):
    errors: dict[str, list[str]] = Field(
        description="The reasons per field (``__all__``: about the object as a whole)."
    )


INVALID = {400: FormErrorOut}


# Settings


class TrainingOut(Schema):
    trained_at: datetime | None = Field(description="When the model in use was trained.")
    retraining_pending: bool = Field(
        description="Intents changed since: the worker retrains in the background."
    )
    last_error: str = Field(description="Why the last training failed, if it did.")


class SettingsIn(Schema):
    enabled: StrictBool = Field(description="The assistant answers and hands off on this brand.")
    confidence_threshold: float = Field(
        allow_inf_nan=False,
        description="0 to 1; below it the assistant hands off instead of answering.",
    )
    answer_channels: list[str] = Field(
        description="Where it answers (webchat, email, whatsapp, messenger); "
        "elsewhere it only classifies."
    )
    action_base_url: str = Field(
        description="The brand's own API for actions (http or https, public address); "
        "empty: no actions."
    )
    timeout_seconds: float = Field(
        allow_inf_nan=False,
        description="Timeout of calls to that API, in seconds (over 0, at most 30).",
    )


class SettingsOut(SettingsIn):
    allow_private_addresses: bool = Field(
        description="Read only: set by the platform operator for a brand system on a "
        "private network."
    )
    updated_at: datetime | None = Field(description="Null until the settings are first saved.")
    training: TrainingOut

    @staticmethod
    def resolve_training(settings: AssistantSettings) -> dict[str, Any]:
        return _training(settings.brand_id)


# Intents


class TeamRef(Schema):
    id: int
    name: str


class IntentIn(Schema):
    name: str = Field(description="A slug, unique in the brand (what the classifier predicts).")
    label: str = Field(description="What agents read.")
    training_phrases_fr: list[str] = Field(
        [], description="Examples in French; blanks and repeats are dropped (at most 500)."
    )
    training_phrases_en: list[str] = Field([], description="Examples in English (same rules).")
    answer_fr: str = ""
    answer_en: str = ""
    action: str = Field(
        "", description='"" (answer or knowledge base), "order_status" or "handoff".'
    )
    automatable: StrictBool = Field(False, description="May be handled without a person.")
    team_id: ObjectId | None = Field(
        None, description="The brand's team that receives handoffs on this intent."
    )

    @field_validator("training_phrases_fr", "training_phrases_en")
    @classmethod
    def one_line_each(cls, phrases: list[str]) -> list[str]:
        # The form reads one phrase per line: a line break would silently make two.
        if any(len(phrase.strip().splitlines()) > 1 for phrase in phrases):
            raise ValueError("a training phrase must not contain a line break")
        return phrases


class IntentOut(Schema):
    id: int
    name: str
    label: str
    training_phrases_fr: list[str]
    training_phrases_en: list[str]
    answer_fr: str
    answer_en: str
    action: str
    automatable: bool
    team: TeamRef | None


# Articles


class ArticleIn(Schema):
    title: str
    language: str = Field(description="fr or en.")
    body: str = Field(description="Markdown, stored as typed.")
    published: StrictBool = Field(True, description="Unpublished articles are never quoted.")


class ArticleOut(ArticleIn):
    id: int
    updated_at: datetime


# Prediction


class PredictIn(TextIn):
    """The sentence to try on the brand's model."""


class IntentRef(Schema):
    id: int
    name: str
    label: str


class PredictionOut(Schema):
    intent: IntentRef | None = Field(description="Null when the text is out of scope.")
    confidence: float = Field(description="Of the best intent, 0 to 1.")
    low_confidence: bool = Field(
        description="True: the assistant would hand off (out of scope, or below the "
        "brand's confidence threshold) rather than act on the intent."
    )
    language: str = Field(description="fr or en, as the assistant would answer.")
    sentiment: float = Field(description="-1 (negative) to 1 (positive).")
    angry: bool = Field(description="An upset customer is handed off to a person.")
    training: TrainingOut


def _administrator(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


def _training(brand_id: int) -> dict[str, Any]:
    model = TrainedModel.objects.filter(brand_id=brand_id).defer("data").first()
    return {
        "trained_at": model.trained_at if model else None,
        "retraining_pending": bool(model and model.requested_at),
        "last_error": model.last_error if model else "",
    }


def _settings_of(admin: Membership) -> AssistantSettings:
    """The brand's settings, or unsaved defaults (a GET writes nothing)."""
    found = AssistantSettings.objects.filter(brand=admin.brand).first()
    return found or AssistantSettings(brand=admin.brand)


def _intents(admin: Membership) -> QuerySet[Intent]:
    return (
        Intent.objects.filter(brand_id=admin.brand_id)
        .select_related("team")
        .order_by("label", "name", "pk")
    )


def _articles(admin: Membership) -> QuerySet[KnowledgeArticle]:
    return KnowledgeArticle.objects.filter(brand_id=admin.brand_id).order_by(
        "language", "title", "pk"
    )


# The API's name of a form field, where they differ.
API_FIELD_NAMES = {"team": "team_id"}


def _form_data(body: Schema) -> dict[str, Any]:
    """The JSON body as the console form would post it (phrases one per line, no team: "")."""
    data = body.dict()
    for field in ("training_phrases_fr", "training_phrases_en"):
        if field in data:
            data[field] = "\n".join(data[field])
    if "team_id" in data:
        team_id = data.pop("team_id")
        data["team"] = "" if team_id is None else team_id
    return data


def _save(admin: Membership, form: ModelForm, status: int = 200) -> Status:
    """Save a valid form through ``configure``; 400 with the form's reasons otherwise."""
    if form.is_valid():
        return Status(status, configure.save_brand_form(admin, form))
    errors = {
        API_FIELD_NAMES.get(field, field): [str(message) for message in messages]
        for field, messages in form.errors.items()
    }
    detail = "; ".join(
        message if field == "__all__" else f"{field}: {message}"
        for field, messages in errors.items()
        for message in messages
    )
    return Status(400, {"detail": detail, "errors": errors})


# Settings


@assistant_router.get("/assistant/settings", response={200: SettingsOut, **REFUSED})
def get_assistant_settings(request: HttpRequest) -> AssistantSettings:
    """The brand's assistant settings (defaults until first saved) and training status."""
    return _settings_of(_administrator(request))


@assistant_router.put("/assistant/settings", response={200: SettingsOut, **INVALID, **REFUSED})
def update_assistant_settings(request: HttpRequest, body: SettingsIn) -> Status:
    """Replace the settings; an endpoint on a private address is refused (400)."""
    admin = _administrator(request)
    return _save(admin, SettingsForm(_form_data(body), instance=_settings_of(admin)))


# Intents


@assistant_router.get("/assistant/intents", response={200: list[IntentOut], **REFUSED})
@paginate(Pagination)
def list_intents(request: HttpRequest) -> QuerySet[Intent]:
    """The brand's intents by label, with their training phrases."""
    return _intents(_administrator(request))


@assistant_router.post("/assistant/intents", response={201: IntentOut, **INVALID, **REFUSED})
def create_intent(request: HttpRequest, body: IntentIn) -> Status:
    """Add an intent; the brand's model is retrained in the background."""
    admin = _administrator(request)
    return _save(admin, IntentForm(_form_data(body), brand=admin.brand), status=201)


@assistant_router.get("/assistant/intents/{int:intent_id}", response={200: IntentOut, **NOT_FOUND})
def get_intent(request: HttpRequest, intent_id: ObjectId) -> Intent:
    return access_intent(_administrator(request), intent_id, require_role=Role.ADMIN)


@assistant_router.put(
    "/assistant/intents/{int:intent_id}", response={200: IntentOut, **INVALID, **NOT_FOUND}
)
def update_intent(request: HttpRequest, intent_id: ObjectId, body: IntentIn) -> Status:
    """Replace the intent (omitted optional fields take their defaults); retrained."""
    admin = _administrator(request)
    intent = access_intent(admin, intent_id, require_role=Role.ADMIN)
    return _save(admin, IntentForm(_form_data(body), instance=intent, brand=admin.brand))


@assistant_router.delete("/assistant/intents/{int:intent_id}", response={204: None, **NOT_FOUND})
def delete_intent(request: HttpRequest, intent_id: ObjectId) -> Status:
    """Delete the intent; the brand's model is retrained without it."""
    admin = _administrator(request)
    intent = access_intent(admin, intent_id, require_role=Role.ADMIN)
    configure.delete_brand_object(admin, intent)
    return Status(204, None)


# Articles


@assistant_router.get("/assistant/articles", response={200: list[ArticleOut], **REFUSED})
@paginate(Pagination)
def list_articles(request: HttpRequest) -> QuerySet[KnowledgeArticle]:
    """The brand's knowledge-base articles, by language then title."""
    return _articles(_administrator(request))


@assistant_router.post("/assistant/articles", response={201: ArticleOut, **INVALID, **REFUSED})
def create_article(request: HttpRequest, body: ArticleIn) -> Status:
    """Add an article; published ones are quoted from the next question (no training)."""
    admin = _administrator(request)
    return _save(admin, ArticleForm(_form_data(body)), status=201)


@assistant_router.get(
    "/assistant/articles/{int:article_id}", response={200: ArticleOut, **NOT_FOUND}
)
def get_article(request: HttpRequest, article_id: ObjectId) -> KnowledgeArticle:
    return access_article(_administrator(request), article_id, require_role=Role.ADMIN)


@assistant_router.put(
    "/assistant/articles/{int:article_id}", response={200: ArticleOut, **INVALID, **NOT_FOUND}
)
def update_article(request: HttpRequest, article_id: ObjectId, body: ArticleIn) -> Status:
    """Replace the article (``published`` defaults to true when omitted)."""
    admin = _administrator(request)
    article = access_article(admin, article_id, require_role=Role.ADMIN)
    return _save(admin, ArticleForm(_form_data(body), instance=article))


@assistant_router.delete("/assistant/articles/{int:article_id}", response={204: None, **NOT_FOUND})
def delete_article(request: HttpRequest, article_id: ObjectId) -> Status:
    admin = _administrator(request)
    article = access_article(admin, article_id, require_role=Role.ADMIN)
    configure.delete_brand_object(admin, article)
    return Status(204, None)


# Prediction


@assistant_router.post(
    "/assistant/predict", response={200: PredictionOut, 409: ErrorOut, **REFUSED}
)
def predict_intent(request: HttpRequest, body: PredictIn) -> Status:
    """What the assistant makes of a first message from a new customer, to try the intents.

    It is the assistant's own analysis (``processing.analyse``) of an unsaved
    message: nothing is stored, nothing is answered. 409 until the brand has a
    trained model; while ``training.retraining_pending``, the previous model answers.
    """
    admin = _administrator(request)
    training = _training(admin.brand_id)
    if engine.classifier_for(admin.brand_id) is None:
        reason = "This brand has no trained model yet"
        if training["last_error"]:
            reason += f" (last training: {training['last_error']})"
        elif training["retraining_pending"]:
            reason += " (training is pending in the background)"
        return Status(409, {"detail": f"{reason}."})
    brand = admin.brand
    conversation = Conversation(brand=brand, customer=Customer(brand=brand))
    analysis = analyse(
        _settings_of(admin),
        Message(brand=brand, conversation=conversation, text=body.text),
        conversation,
        ConversationState(brand=brand, conversation=conversation),  # nothing remembered yet
    )
    return Status(
        200,
        {
            "intent": analysis.intent,
            "confidence": analysis.confidence,
            "low_confidence": analysis.low_confidence,
            "language": analysis.language,
            "sentiment": analysis.sentiment,
            "angry": analysis.angry,
            "training": training,
        },
    )


NOT_RECOGNISED = "Not recognised"  # the name of the jobs without intent (the API is in English)


class IntentRatesOut(Schema):
    code: str = Field(description="The intent's name; empty: no intent was recognised.")
    name: str = Field(
        description="The intent's label (its code when the brand no longer has it); "
        '"Not recognised" when the code is empty.'
    )
    conversations: int = Field(description="Conversations counted under this intent.")
    contained: int = Field(description="Of those, answered without a person.")
    handed_off: int
    containment_rate: float


class RatesOut(Schema):
    start: datetime
    end: datetime
    conversations: int = Field(description="Conversations the assistant answered or handed off.")
    contained: int = Field(description="Of those, answered without a person.")
    handed_off: int
    containment_rate: float
    handoff_rate: float
    handoff_reasons: dict[str, int] = Field(description="Handoffs per reason code.")
    intents: list[IntentRatesOut] = Field(
        description="The same conversations per intent, most first: a conversation counts "
        "under each intent recognised in it, and a handoff under the intent the customer was "
        "talking about (not recognised when none was), so they may add up to more than the "
        "totals above."
    )


@assistant_router.get("/assistant/metrics", response={200: RatesOut, **REFUSED})
def get_metrics(request: HttpRequest, days: int = Query(30, ge=1, le=366)):
    """Containment and handoff over the last ``days`` days (what the console overview shows)."""
    end = timezone.now()
    start = end - timedelta(days=days)
    brand_id = _administrator(request).brand_id
    rates = assistant_rates(brand_id, start, end)
    return {
        **asdict(rates),
        "handoff_reasons": dict(rates.handoff_reasons),
        "intents": [
            {**asdict(row), "name": row.name if row.code else NOT_RECOGNISED}
            for row in rates.intents
        ],
        "start": start,
        "end": end,
    }
