"""Console pages where a brand's administrators configure its assistant.

Administrators only (403 for agents and supervisors: the settings name the
brand's own systems, and intents decide what customers are told without a
person); another brand's intents and articles are 404. Forms post, then
redirect (POST-redirect-GET); changes go through ``configure``.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from comptoir.assistant import configure
from comptoir.assistant.access import access_article, access_intent
from comptoir.assistant.forms import ArticleForm, IntentForm, SettingsForm
from comptoir.assistant.handoff_summary import handoff_reason
from comptoir.assistant.metrics import assistant_rates
from comptoir.assistant.models import AssistantSettings, Intent, KnowledgeArticle, TrainedModel
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Membership, Role

RATES_DAYS = 30


def _recent_rates(membership: Membership) -> dict:
    """Containment and handoff over the last ``RATES_DAYS`` days, laid out for the page."""
    now = timezone.now()
    start = now - timedelta(days=RATES_DAYS)
    rates = assistant_rates(membership.brand_id, start, now)
    return {
        "rates": rates,
        "reasons": [(handoff_reason(code), count) for code, count in rates.handoff_reasons],
        "intents": rates.intents,
    }


def _settings_of(membership: Membership) -> AssistantSettings:
    """The brand's settings, or unsaved defaults (a GET writes nothing)."""
    found = AssistantSettings.objects.filter(brand=membership.brand).first()
    return found or AssistantSettings(brand=membership.brand)


def _overview(
    request: HttpRequest, membership: Membership, form: SettingsForm, status: int = 200
) -> HttpResponse:
    settings = form.instance
    intents = list(
        Intent.objects.filter(brand=membership.brand)
        .select_related("team")
        .order_by("label", "name")
    )
    for intent in intents:
        intent.phrase_count = len(intent.training_phrases_fr or []) + len(
            intent.training_phrases_en or []
        )
    articles = KnowledgeArticle.objects.filter(brand=membership.brand).order_by(
        Case(When(language="fr", then=Value(0)), default=Value(1), output_field=IntegerField()),
        "language",
        "title",
    )
    return render(
        request,
        "assistant/console/overview.html",
        {
            "membership": membership,
            "form": form,
            "allow_private_addresses": settings.allow_private_addresses,
            "intents": intents,
            "articles": articles,
            "model": TrainedModel.objects.filter(brand=membership.brand).defer("data").first(),
            "rates": _recent_rates(membership),
            "rates_days": RATES_DAYS,
        },
        status=status,
    )


@require_safe
@login_required
def results(request: HttpRequest) -> HttpResponse:
    """Containment and handoff for supervisors (administrators see them on the overview)."""
    membership = request_membership(request, require_role=Role.SUPERVISOR)
    context = {"membership": membership, "rates": _recent_rates(membership)}
    return render(request, "assistant/console/results.html", {**context, "rates_days": RATES_DAYS})


@require_safe
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    return _overview(request, membership, SettingsForm(instance=_settings_of(membership)))


@require_POST
@login_required
def settings_save(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    form = SettingsForm(request.POST, instance=_settings_of(membership))
    if not form.is_valid():
        return _overview(request, membership, form, status=400)
    configure.save_brand_form(membership, form)
    messages.success(request, gettext("Assistant settings saved."))
    return redirect("assistant:console")


def _edit(
    request: HttpRequest,
    membership: Membership,
    form_class: type[IntentForm] | type[ArticleForm],
    instance,
    template: str,
    saved_message: str,
) -> HttpResponse:
    """Shared GET/POST handling of the intent and article forms."""
    kwargs = {"brand": membership.brand} if form_class is IntentForm else {}
    if request.method == "POST":
        form = form_class(request.POST, instance=instance, **kwargs)
        if form.is_valid():
            configure.save_brand_form(membership, form)
            messages.success(request, saved_message)
            return redirect("assistant:console")
        status = 400
    else:
        form = form_class(instance=instance, **kwargs)
        status = 200
    return render(
        request,
        template,
        {"membership": membership, "form": form, "object": instance},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def intent_create(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    return _edit(
        request,
        membership,
        IntentForm,
        Intent(brand=membership.brand),
        "assistant/console/intent_form.html",
        gettext("Intent saved; the assistant is retrained in the background."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def intent_edit(request: HttpRequest, intent_id: int) -> HttpResponse:
    membership = request_membership(request)
    intent = access_intent(membership, intent_id, require_role=Role.ADMIN)
    return _edit(
        request,
        membership,
        IntentForm,
        intent,
        "assistant/console/intent_form.html",
        gettext("Intent saved; the assistant is retrained in the background."),
    )


@require_POST
@login_required
def intent_delete(request: HttpRequest, intent_id: int) -> HttpResponse:
    membership = request_membership(request)
    intent = access_intent(membership, intent_id, require_role=Role.ADMIN)
    configure.delete_brand_object(membership, intent)
    messages.success(
        request, gettext("Intent deleted; the assistant is retrained in the background.")
    )
    return redirect("assistant:console")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def article_create(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    return _edit(
        request,
        membership,
        ArticleForm,
        KnowledgeArticle(brand=membership.brand, language=membership.brand.default_language),
        "assistant/console/article_form.html",
        gettext("Article saved."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    membership = request_membership(request)
    article = access_article(membership, article_id, require_role=Role.ADMIN)
    return _edit(
        request,
        membership,
        ArticleForm,
        article,
        "assistant/console/article_form.html",
        gettext("Article saved."),
    )


@require_POST
@login_required
def article_delete(request: HttpRequest, article_id: int) -> HttpResponse:
    membership = request_membership(request)
    article = access_article(membership, article_id, require_role=Role.ADMIN)
    configure.delete_brand_object(membership, article)
    messages.success(request, gettext("Article deleted."))
    return redirect("assistant:console")
