"""The automatic acknowledgement a customer gets when their mail opens a conversation.

It tells them their reference (``[#id]``, which threads their next mail) and
how soon to expect an answer, in their language. It is sent only for a new
conversation, which is what keeps it from being sent twice or to a machine:
auto-replies and bounces never open one.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format, time_format
from django.utils.timesince import timeuntil
from django.utils.translation import gettext

from comptoir.conversations.actions import send_automatic_message
from comptoir.conversations.models import Channel, Conversation, Message
from comptoir.sla.expectations import expected_first_response
from comptoir.sla.risk import calendar_for
from comptoir.touchpoints.email.models import Mailbox


def acknowledgement_language(conversation: Conversation) -> str:
    """The customer's language if Comptoir speaks it, else the brand's, else English."""
    supported = {code for code, _ in settings.LANGUAGES}
    for candidate in (conversation.customer.language, conversation.brand.default_language):
        code = (candidate or "").split("-")[0].lower()
        if code in supported:
            return code
    return "en"


def acknowledgement_text(conversation: Conversation, mailbox: Mailbox) -> str:
    """The text, in the customer's language.

    The promise comes from what the team did lately (``sla.expectations``: "we expect to
    answer by Monday 9 June 2031 at 10:30", in the team's business hours); until there
    is enough history, from the mailbox's ``response_time_hours``.
    """
    with translation.override(acknowledgement_language(conversation)):
        now = timezone.now()
        expected = expected_first_response(
            conversation.brand_id, conversation.team_id, conversation.channel, now
        )
        if expected is not None:
            local = expected.astimezone(_zone_of(conversation))
            promise = gettext("We expect to answer by %(date)s at %(time)s.") % {
                "date": date_format(local, "DATE_FORMAT"),
                "time": time_format(local, "TIME_FORMAT"),
            }
        else:
            delay = timeuntil(now + timedelta(hours=mailbox.response_time_hours), now, depth=2)
            promise = gettext("We usually answer within %(delay)s.") % {"delay": delay}
        return gettext(
            "Hello,\n\n"
            "We have received your message and registered it under the reference "
            "[#%(id)s]. %(promise)s\n\n"
            "If you write to us again about this request, please keep the reference "
            "in the subject.\n\n"
            "%(brand)s"
        ) % {"id": conversation.pk, "promise": promise, "brand": conversation.brand.name}


def _zone_of(conversation: Conversation) -> ZoneInfo:
    """The team's business-hours time zone, else the site's (``TIME_ZONE``)."""
    calendar = calendar_for(conversation.brand_id, conversation.team_id)
    return calendar.zone if calendar is not None else ZoneInfo(settings.TIME_ZONE)


def acknowledge(conversation: Conversation, mailbox: Mailbox) -> Message:
    """Queue the acknowledgement as a system message on the e-mail channel."""
    return send_automatic_message(
        conversation, acknowledgement_text(conversation, mailbox), channel=Channel.EMAIL
    )
