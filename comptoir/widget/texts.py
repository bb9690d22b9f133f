"""The widget's words and the language it speaks to a visitor.

The widget script carries no strings of its own: the session endpoint sends
every customer-facing text, translated by Django's gettext, so that French and
English visitors read the same catalogue as the rest of Comptoir.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext

from comptoir.assistant.enabled_brands import assistant_enabled_for
from comptoir.conversations.models import Channel
from comptoir.sla.customer_wait import business_hours
from comptoir.tenancy.models import Brand


def _accept_language_tags(header: str) -> list[str]:
    """Language tags of an Accept-Language header, preferred first (ties keep their order)."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def _supported(tag: str | None) -> str | None:
    if not tag or not isinstance(tag, str):
        return None
    try:
        return translation.get_supported_language_variant(tag.strip().lower())
    except LookupError:
        return None


def visitor_language(request: HttpRequest, requested: str | None, brand: Brand) -> str:
    """The language to answer a visitor in.

    What the embedding page asked for (``data-lang``) wins, then the browser's
    preferences, then the brand's own language: a French shop greets an unknown
    visitor in French.
    """
    candidates = [requested, *_accept_language_tags(request.headers.get("Accept-Language", ""))]
    for candidate in candidates:
        language = _supported(candidate)
        if language:
            return language
    return _supported(brand.default_language) or settings.LANGUAGE_CODE


def refusal_reason(code: str) -> str:
    """Why the widget refused something, in the active language, for the visitor to read."""
    reasons = {
        "file_too_large": gettext("This file is too large (maximum %(size)s).")
        % {"size": filesizeformat(settings.ATTACHMENT_MAX_BYTES)},
        "file_type_refused": gettext(
            "This type of file cannot be sent. Photos, videos, PDF and text files are accepted."
        ),
        "too_many_files": gettext("Too many files at once: send them in several messages."),
        "empty_message": gettext("Write a message or add a file."),
        "message_too_long": gettext("This message is too long."),
        "invalid_email": gettext("This e-mail address is not valid."),
        "token_expired": gettext("Your chat session has expired."),
        "token_invalid": gettext("Your chat session is not valid."),
        "token_missing": gettext("Your chat session is not valid."),
        "token_wrong_brand": gettext("Your chat session is not valid."),
        "unknown_brand": gettext("This chat is not available."),
        "bad_request": gettext("The request could not be understood."),
        "not_found": gettext("Not found."),
        "method_not_allowed": gettext("Method not allowed."),
        "invalid_phone": gettext("This phone number is not valid."),
        "invalid_slot": gettext("Choose a time in the coming weeks, or “as soon as possible”."),
        "rate_limited": gettext("Too many requests: please wait a moment and try again."),
        "callback_numbers": gettext(
            "A callback was already requested on another number: please ask the advisor "
            "in the chat."
        ),
    }
    return reasons.get(code, reasons["bad_request"])


def default_subtitle(brand: Brand) -> str:
    """The header line: it must not promise an advisor while the assistant answers first."""
    if assistant_enabled_for(brand.pk):
        return gettext("Our assistant answers first; an advisor takes over when needed.")
    return gettext("An advisor answers you here.")


def opening_texts(brand: Brand) -> dict[str, str]:
    """The header's opening hours (the brand's SLA calendar) and, while closed, when the team
    is back; empty strings for a brand without a calendar (active language)."""
    hours = business_hours(brand.pk) or {}
    return {
        "hours": gettext("Open %(hours)s") % {"hours": hours["hours"]}
        if hours.get("hours")
        else "",
        "offline": hours.get("offline", ""),
    }


def widget_texts(brand: Brand) -> dict[str, Any]:
    """Every string the widget shows, in the active language (use under translation.override).

    The greeting and the header line are the brand's own when its administrators
    wrote them (Settings → Brand), else Comptoir's.
    """
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "open": gettext("Open the chat"),
        "close": gettext("Close the chat"),
        "subtitle": brand.customer_text("subtitle", language) or default_subtitle(brand),
        "greeting": brand.customer_text("greeting", language)
        or gettext("Hello! How can we help you?"),
        "input_label": gettext("Your message"),
        "input_placeholder": gettext("Write your message…"),
        "send": gettext("Send"),
        "attach": gettext("Add a photo or a video"),
        "remove_file": gettext("Remove the file"),
        "you": gettext("You"),
        "advisor": gettext("Advisor"),
        "agent_typing": gettext("An advisor is typing…"),
        "assistant": gettext("Automated assistant"),
        "sending": gettext("Sending…"),
        "sent": gettext("Sent"),
        "not_sent": gettext("Not sent"),
        "retry": gettext("Send again"),
        "ack": gettext("Message received.")
        if assistant_enabled_for(brand.pk)
        else gettext("Message received — an advisor will answer you here."),
        "network_error": gettext("Connection problem: your message was not sent."),
        "reconnecting": gettext("Connection lost, reconnecting…"),
        "conversation_closed": gettext(
            "This conversation has been closed. You can write again at any time."
        ),
        "new_messages": gettext("New messages"),
        "messages_label": gettext("Conversation"),
        "email_prompt": gettext("Leave your e-mail so we can reach you"),
        "email_label": gettext("E-mail"),
        "name_label": gettext("Name (optional)"),
        "email_submit": gettext("Save"),
        "email_cancel": gettext("Cancel"),
        "email_saved": gettext("Thank you, we can now reach you at this address."),
        "attachment": gettext("Attachment"),
        "via_channel": {
            channel.value: gettext("by %(channel)s") % {"channel": channel.label}
            for channel in Channel
        },
        "file_too_large": refusal_reason("file_too_large"),
        "file_type_refused": refusal_reason("file_type_refused"),
        "empty_message": refusal_reason("empty_message"),
        "message_too_long": refusal_reason("message_too_long"),
        "invalid_email": refusal_reason("invalid_email"),
        "unavailable": refusal_reason("unknown_brand"),
        # "Call me back" form (comptoir.touchpoints.phone.widget_views).
        "callback_prompt": gettext("Rather talk? We call you back"),
        # Shown with the wait when it is long, nobody is available or the team is closed.
        "callback_offer": gettext("Rather not wait? We can call you back."),
        "callback_number": gettext("Your phone number"),
        "callback_when": gettext("When"),
        "callback_now": gettext("As soon as possible"),
        "callback_slot": gettext("At a time of my choice"),
        "callback_time": gettext("Date and time"),
        "callback_submit": gettext("Call me back"),
        "callback_cancel": gettext("Cancel"),
        "callback_done": gettext("Thank you, an advisor will call you back."),
        # "Book an appointment" (comptoir.appointments.widget_views).
        "book_prompt": gettext("Book an appointment in store"),
        "book_service": gettext("Service"),
        "book_serial": gettext("Serial number of the device (optional)"),
        "book_photos": gettext("Photos or a video of the problem (optional)"),
        "book_next_day": gettext("Next day"),
        "book_submit": gettext("Book"),
        "book_choose": gettext("Choose a slot."),
        "book_no_slot": gettext("No free slot this day."),
        "book_done": gettext("Your appointment is booked:"),
        "invalid_phone": refusal_reason("invalid_phone"),
        "invalid_slot": refusal_reason("invalid_slot"),
        # The inline satisfaction survey after a chat (comptoir.surveys).
        "survey_csat_low": gettext("Very dissatisfied"),
        "survey_csat_high": gettext("Very satisfied"),
        "survey_ces_low": gettext("Strongly disagree"),
        "survey_ces_high": gettext("Strongly agree"),
        "survey_comment": gettext("Anything to add? (optional)"),
        "survey_submit": gettext("Send my answer"),
        "survey_thanks": gettext("Thank you for your answer!"),
    }
