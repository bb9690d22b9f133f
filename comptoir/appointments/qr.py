"""A booking's check-in link as a QR code (SVG): on its page, and as an image for messages.

The code holds the signed link (``links.manage_url``), nothing else: scanning it
opens the customer's page, where they check in. Drawn by ``segno`` (pure
Python), as SVG: sharp at any size, on a phone or printed.
"""

import io

import segno

from comptoir.appointments.links import manage_url
from comptoir.appointments.models import Appointment


def qr_svg(appointment: Appointment, *, scale: int = 5, title: str = "") -> str:
    """The SVG element (no XML declaration) to put inline in a page."""
    code = segno.make(manage_url(appointment), error="m")
    return code.svg_inline(scale=scale, title=title or None, dark="#111", light="#fff")


def qr_svg_document(appointment: Appointment, *, scale: int = 8) -> bytes:
    """A standalone SVG file (``/appointments/<token>/qr.svg``)."""
    buffer = io.BytesIO()
    segno.make(manage_url(appointment), error="m").save(
        buffer, kind="svg", scale=scale, dark="#111", light="#fff"
    )
    return buffer.getvalue()
