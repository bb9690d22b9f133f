"""The words of a survey, in the customer's language (French or English)."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from comptoir.surveys.models import Survey, SurveySettings


def survey_language(customer_language: str, brand_language: str) -> str:
    """The customer's language if Comptoir speaks it, else the brand's, else English."""
    supported = {code for code, _ in settings.LANGUAGES}
    for candidate in (customer_language, brand_language):
        code = (candidate or "").split("-")[0].lower()
        if code in supported:
            return code
    return "en"


def question(survey: Survey, options: SurveySettings | None) -> str:
    """The satisfaction question: the brand's own wording in that language, else ours."""
    own = ""
    if options is not None:
        own = options.question_fr if survey.language == "fr" else options.question_en
    if own.strip():
        return own.strip()
    with translation.override(survey.language):
        return gettext("How satisfied are you with the help you received from %(brand)s?") % {
            "brand": survey.brand.name
        }


def effort_question(survey: Survey, options: SurveySettings | None) -> str | None:
    """CES 2.0's statement, or None when the brand does not ask about effort."""
    if options is not None and not options.ask_effort:
        return None
    with translation.override(survey.language):
        return gettext("%(brand)s made it easy to handle my issue.") % {"brand": survey.brand.name}


def message_text(
    survey: Survey, options: SurveySettings | None, link: str, *, reminder: bool
) -> str:
    """The survey as a written message (e-mail, WhatsApp, Messenger): the question and its link."""
    with translation.override(survey.language):
        opening = (
            gettext("A reminder: your opinion on our answer helps us.")
            if reminder
            else gettext("Thank you for contacting %(brand)s.") % {"brand": survey.brand.name}
        )
        return gettext(
            "%(opening)s\n\n%(question)s\nOne click to answer: %(link)s\n\n%(brand)s"
        ) % {
            "opening": opening,
            "question": question(survey, options),
            "link": link,
            "brand": survey.brand.name,
        }


# A tapped score's id: "survey:<id>:<nonce>:<score>" (``surveys.quick_replies`` takes it).
QUICK_REPLY_PREFIX = "survey:"
SCORES = (5, 4, 3, 2, 1)


def survey_quick_replies(survey: Survey) -> dict:
    """The five satisfaction scores as the channel's buttons, best first."""
    prefix = f"{survey.pk}:{survey.nonce}:"
    with translation.override(survey.language):
        return {
            "label": gettext("Your rating"),
            "choices": [
                {"id": f"{QUICK_REPLY_PREFIX}{prefix}{score}", "title": f"{score} {'★' * score}"}
                for score in SCORES
            ],
        }
