"""A survey answered with one tap on WhatsApp or Messenger: its scores as quick replies.

The message still carries the signed link (for effort and a comment, and for a
client that does not show the buttons). A tap's id names the survey, its nonce
and the score; it is taken only from the surveyed customer's own id on that
channel, once (``actions.answer``), and is not stored as a message
(``touchpoints.messaging.quick_replies``).
"""

from django.utils import translation
from django.utils.translation import gettext

from comptoir.conversations.actions import send_automatic_message
from comptoir.customers.models import Identity
from comptoir.surveys.actions import SurveyError, answer
from comptoir.surveys.models import Survey
from comptoir.surveys.texts import QUICK_REPLY_PREFIX, SCORES
from comptoir.tenancy.models import Brand


def answer_from_channel(brand: Brand, channel: str, sender_id: str, reply_id: str) -> bool:
    """Record a tapped score; False when the id is not one of ours for this sender."""
    try:
        survey_id, nonce, score = reply_id.removeprefix(QUICK_REPLY_PREFIX).split(":")
        survey_id, score = int(survey_id), int(score)
    except ValueError:
        return False
    survey = (
        Survey.objects.select_related("customer", "conversation", "brand")
        .filter(pk=survey_id, brand=brand, channel=channel)
        .first()
    )
    if survey is None or score not in SCORES:
        return False
    sender = (
        Identity.objects.select_related("customer")
        .filter(brand=brand, kind=channel, value=sender_id)
        .first()
    )
    if sender is None or _person(sender.customer) != _person(survey.customer):
        return False
    try:
        answer(survey, score, nonce=nonce)
    except SurveyError:
        return True  # answered already (a second tap) or closed: nothing more to say
    with translation.override(survey.language):
        thanks = gettext("Thank you! Your answer has been recorded.")
    send_automatic_message(survey.conversation, thanks, channel=channel)
    return True


def _person(customer) -> int:
    """The customer a merge kept (a survey may name the customer merged away)."""
    return customer.merged_into_id or customer.pk
