"""The customer's side of a survey: the page of a signed link, and the widget's inline answer.

**A GET never records anything**: mail scanners and link previews follow links.
The link opens a page; only its form's POST records the answer. The signed token
is the only credential (no session, no cookie: the page is opened from a mail
client), so the form needs no CSRF cookie: forging a post needs the token itself.
"""

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from comptoir.customers.actions import record_consent
from comptoir.customers.models import ConsentPurpose, Customer
from comptoir.surveys import texts
from comptoir.surveys.actions import SurveyError, answer
from comptoir.surveys.models import Survey, SurveyStatus
from comptoir.surveys.sending import settings_of
from comptoir.surveys.tokens import SurveyLinkError, read_token
from comptoir.text_cleaning import clean_data
from comptoir.widget.texts import visitor_language
from comptoir.widget.views import error_response, widget_api
from comptoir.widget.visitors import authenticate_visitor, bearer_token, visitor_customer

CSAT_CHOICES = range(1, 6)
CES_CHOICES = range(1, 8)


def refusal_text(code: str) -> str:
    """Why a link or an answer is refused, in the active language."""
    reasons = {
        "tampered": gettext(
            "This survey link is not valid. Please use the link from your message."
        ),
        "expired": gettext("This survey link has expired."),
        "used": gettext("This survey has already been answered. Thank you!"),
        "not_sent": gettext("This survey is not open for answers."),
        "bad_csat": gettext("Please choose a satisfaction score from 1 to 5."),
        "bad_ces": gettext("Please choose an effort score from 1 to 7."),
        "comment_too_long": gettext("Your comment is too long (2000 characters at most)."),
    }
    return reasons.get(code, reasons["tampered"])


# Status of each refusal: a broken link is a bad request, a used or expired one is gone.
REFUSAL_STATUS = {"tampered": 400, "expired": 410, "used": 410, "not_sent": 409}


def _survey_of(token: str) -> tuple[Survey, str]:
    """The survey a token names and the nonce it carries; SurveyLinkError otherwise."""
    link = read_token(token)
    survey = Survey.objects.select_related("brand").filter(pk=link.survey_id).first()
    if survey is None:
        raise SurveyLinkError("tampered")
    if link.nonce != survey.nonce or survey.status == SurveyStatus.ANSWERED:
        raise SurveyLinkError("used")
    return survey, link.nonce


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _page(
    request: HttpRequest, survey: Survey | None, status: int = 200, **context
) -> HttpResponse:
    options = settings_of(survey.brand_id) if survey is not None else None
    context.update(
        {
            "survey": survey,
            "question": texts.question(survey, options) if survey else "",
            "effort_question": texts.effort_question(survey, options) if survey else None,
            "csat_choices": CSAT_CHOICES,
            "ces_choices": CES_CHOICES,
        }
    )
    response = render(request, "surveys/answer.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def answer_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the question. POST: the answer, recorded once; refusals say why, on a page."""
    try:
        survey, nonce = _survey_of(token)
    except SurveyLinkError as exc:
        return _page(request, None, REFUSAL_STATUS[exc.code], refusal=refusal_text(exc.code))
    with translation.override(survey.language):
        if request.method != "POST":
            return _page(request, survey, stop_token=token)
        csat = _int_or_none(request.POST.get("csat"))
        ces_raw = request.POST.get("ces", "")
        ces = _int_or_none(ces_raw) if ces_raw else None
        comment = clean_data(request.POST.get("comment", ""))
        try:
            answer(survey, csat if csat is not None else 0, ces, comment, nonce=nonce)
        except SurveyError as exc:
            if exc.code in REFUSAL_STATUS:
                return _page(
                    request, None, REFUSAL_STATUS[exc.code], refusal=refusal_text(exc.code)
                )
            return _page(
                request,
                survey,
                400,
                error=refusal_text(exc.code),
                comment=comment,
                stop_token=token,
            )
        return _page(request, None, thanks=True, stop_token=token)


@csrf_exempt
@require_POST
def stop_surveys(request: HttpRequest, token: str) -> HttpResponse:
    """The customer withdraws their consent to surveys, from any survey link of theirs.

    As easy as it was given: one button on the survey's page, answered or not;
    the link is the credential (signed, until it expires). No survey, reminder
    or check-in is sent afterwards (``customers.consents.allows``).
    """
    try:
        link = read_token(token)
    except SurveyLinkError as exc:
        return _page(request, None, REFUSAL_STATUS[exc.code], refusal=refusal_text(exc.code))
    survey = Survey.objects.select_related("customer").filter(pk=link.survey_id).first()
    if survey is None or link.nonce != survey.nonce:
        return _page(request, None, 400, refusal=refusal_text("tampered"))
    customer = survey.customer
    if customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    with translation.override(survey.language):
        record_consent(customer, ConsentPurpose.SURVEYS, False, source="survey")
        return _page(request, None, stopped=True)


@widget_api(("POST",))
def widget_answer(request: HttpRequest) -> HttpResponse:
    """JSON ``{token, csat, ces?, comment?}`` from the widget, for the visitor's own survey."""
    visitor, brand = authenticate_visitor(bearer_token(request))
    with translation.override(visitor_language(request, None, brand)):
        return _widget_answer(request, visitor)


def _widget_answer(request: HttpRequest, visitor) -> HttpResponse:
    try:
        body = clean_data(json.loads(request.body or b"{}"))
    except ValueError:
        return error_response(400, "bad_request")
    if not isinstance(body, dict):
        return error_response(400, "bad_request")
    try:
        survey, nonce = _survey_of(str(body.get("token") or ""))
    except SurveyLinkError as exc:
        return JsonResponse(
            {"error": refusal_text(exc.code), "code": exc.code}, status=REFUSAL_STATUS[exc.code]
        )
    customer = visitor_customer(visitor)
    if customer is None or survey.customer_id != customer.pk:
        raise Http404
    csat, ces = body.get("csat"), body.get("ces")
    try:
        answer(
            survey,
            csat if type(csat) is int else 0,
            ces if type(ces) is int or ces is None else 0,
            str(body.get("comment") or ""),
            nonce=nonce,
        )
    except SurveyError as exc:
        return JsonResponse(
            {"error": refusal_text(exc.code), "code": exc.code},
            status=REFUSAL_STATUS.get(exc.code, 400),
        )
    return JsonResponse({"survey_id": survey.pk, "status": "answered"})
