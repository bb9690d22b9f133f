"""Template filters for how the console shows times and attachments."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from comptoir.conversations.actions import ReplyOptions
from comptoir.conversations.attachment_files import display_kind
from comptoir.conversations.models import Attachment

register = template.Library()


@register.filter
def short_time(value: datetime | None) -> str:
    """A list timestamp: the time today, the day this year, the full date before."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return date_format(local, "H:i")
    if local.year == today.year:
        return date_format(local, "j M")
    return date_format(local, "j M Y")


@register.filter
def attachment_kind(attachment: Attachment) -> str:
    """``image``, ``video`` or ``file``: how the timeline shows an attachment."""
    return display_kind(attachment.content_type)


@register.filter
def other_channels(options: ReplyOptions | None, channel: str) -> list[tuple[str, str]]:
    """The channels, other than ``channel``, a failed reply can be sent again on: (value, label)."""
    if options is None:
        return []
    return [(value, label) for value, label in options.choices if value != channel]
