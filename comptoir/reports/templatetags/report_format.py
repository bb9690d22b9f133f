"""How the reports page writes its figures."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """42 s, 12 min, 3 h 05, 2 d 4 h: as precise as a supervisor reads it; a dash for none."""
    if seconds is None:
        return "\u2013"
    seconds = int(seconds)
    if seconds < 60:
        return gettext("%(n)d s") % {"n": seconds}
    if seconds < 3600:
        return gettext("%(n)d min") % {"n": seconds // 60}
    if seconds < 86400:
        return gettext("%(h)d h %(m)02d") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
    return gettext("%(d)d d %(h)d h") % {"d": seconds // 86400, "h": seconds % 86400 // 3600}
