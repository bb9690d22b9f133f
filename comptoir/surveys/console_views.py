"""Survey pages of the console: the settings (administrators), follow-ups, sending one by hand."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from comptoir.conversations.access import access_conversation
from comptoir.surveys.access import access_follow_up
from comptoir.surveys.actions import (
    SurveyError,
    close_follow_up,
    save_proactive_settings,
    save_settings,
    send_by_hand,
)
from comptoir.surveys.forms import ProactiveSettingsForm, SurveySettingsForm
from comptoir.surveys.models import ProactiveSettings, SurveySettings, SurveySource
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Role


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    current = SurveySettings.objects.filter(brand_id=membership.brand_id).first()
    form = SurveySettingsForm(
        request.POST if request.method == "POST" else None,
        instance=current or SurveySettings(brand_id=membership.brand_id, channels=[]),
    )
    if request.method == "POST":
        if form.is_valid():
            save_settings(membership, form.save(commit=False))
            messages.success(request, gettext("Survey settings saved."))
            return redirect("surveys:settings")
        return render(
            request,
            "surveys/console/settings.html",
            {"membership": membership, "form": form},
            status=400,
        )
    return render(
        request, "surveys/console/settings.html", {"membership": membership, "form": form}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def proactive_page(request: HttpRequest) -> HttpResponse:
    """Administrators: check-ins, reminders and closings during conversations."""
    membership = request_membership(request, require_role=Role.ADMIN)
    current = ProactiveSettings.objects.filter(brand_id=membership.brand_id).first()
    form = ProactiveSettingsForm(
        request.POST if request.method == "POST" else None,
        instance=current or ProactiveSettings(brand_id=membership.brand_id, channels=[]),
    )
    if request.method == "POST" and form.is_valid():
        save_proactive_settings(membership, form.save(commit=False))
        messages.success(request, gettext("Follow-up settings saved."))
        return redirect("surveys:proactive")
    return render(
        request,
        "surveys/console/proactive.html",
        {"membership": membership, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def follow_up_done(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    membership = request_membership(request, require_role=Role.SUPERVISOR)
    follow_up = access_follow_up(membership, follow_up_id)
    try:
        close_follow_up(membership, follow_up)
    except SurveyError:
        messages.info(request, gettext("This follow-up is already done."))
    return redirect(reverse("reports:overview") + "#follow-ups")


@require_POST
@login_required
def send_survey(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    try:
        send_by_hand(membership, conversation, source=SurveySource.AGENT)
    except SurveyError as exc:
        refusals = {
            "no_contact": gettext("This conversation has no contact to ask about."),
            "unreachable": gettext("A survey cannot be sent on this conversation's channel."),
            "already_sent": gettext(
                "The last contact of this conversation already has its survey."
            ),
            "no_consent": gettext("This customer withdrew their consent to surveys."),
        }
        messages.error(request, refusals[exc.code])
    else:
        messages.success(request, gettext("Survey sent."))
    return redirect("console:conversation", conversation_id=conversation.pk)
