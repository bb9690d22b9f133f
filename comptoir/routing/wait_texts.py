"""The words a waiting customer reads or hears: their place and the wait, in seconds.

Never "under 6 minutes": the figure the estimate gives, to the second below an hour,
in the active language (callers wrap this in ``translation.override``). Shared by the
widget and the phone webhook's answer (an IVR reads ``text`` aloud).
"""

from django.utils.translation import gettext, ngettext

from comptoir.routing.estimates import WaitEstimate


def spoken_duration(seconds: int) -> str:
    """``45 seconds``, ``3 min 20 s``, ``1 h 05 min``: as precise as the estimate."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return ngettext("%(seconds)d second", "%(seconds)d seconds", seconds) % {"seconds": seconds}
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        if rest == 0:
            return gettext("%(minutes)d min") % {"minutes": minutes}
        return gettext("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(minutes, 60)
    return gettext("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def wait_sentence(estimate: WaitEstimate) -> str:
    """One sentence: the customer's place in line and the expected wait, or that nobody is free."""
    if estimate.position == 1:
        place = gettext("You are next in line.")
    else:
        place = gettext("You are number %(position)d in line.") % {"position": estimate.position}
    if estimate.seconds is None:
        return " ".join(
            [place, gettext("No advisor is available right now: we answer as soon as one is.")]
        )
    wait = gettext("Estimated wait: %(duration)s.") % {
        "duration": spoken_duration(estimate.seconds)
    }
    return f"{place} {wait}"
