"""The automatic acknowledgement a customer gets when their mail opens a conversation.

It tells them their reference (``[#id]``, which threads their next mail) and
how soon to expect an answer, in their language. It is sent only for a new
conversation, which is what keeps it from being sent twice or to a machine:
auto-replies and bounces never open one.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.timesince import timeuntil
from django.utils.translation import gettext

from comptoir.conversations.actions import send_automatic_message
from comptoir.conversations.models import Channel, Conversation, Message
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
    """The text, in the customer's language (the delay's words come from Django's catalog)."""
    with translation.override(acknowledgement_language(conversation)):
        now = timezone.now()
        delay = timeuntil(now + timedelta(hours=mailbox.response_time_hours), now, depth=2)
        return gettext(
            "Hello,\n\n"
            "We have received your message and registered it under the reference "
            "[#%(id)s]. We usually answer within %(delay)s.\n\n"
            "If you write to us again about this request, please keep the reference "
            "in the subject.\n\n"
            "%(brand)s"
        ) % {"id": conversation.pk, "delay": delay, "brand": conversation.brand.name}


def acknowledge(conversation: Conversation, mailbox: Mailbox) -> Message:
    """Queue the acknowledgement as a system message on the e-mail channel."""
    return send_automatic_message(
        conversation, acknowledgement_text(conversation, mailbox), channel=Channel.EMAIL
    )
