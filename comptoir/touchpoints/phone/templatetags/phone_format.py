"""Template filters for calls: durations as agents read them."""

from django import template

from comptoir.touchpoints.phone.formatting import format_duration

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """``190`` → ``3:10``; nothing for an unknown duration."""
    return format_duration(seconds)
