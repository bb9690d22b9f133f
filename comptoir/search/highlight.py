"""Snippets with the matched words marked, safe to put in a page.

The database cuts the snippet and wraps each match in two control characters
(``START``/``STOP``), never in HTML: the text is the customer's and may hold
anything (``<script>``). Here the text is escaped first, then each well-formed
START…STOP pair becomes ``<mark>…</mark>``; a stray marker (a customer may type
one) is dropped.
"""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

START = "\x02"
STOP = "\x03"
_MARKERS = re.compile(f"({START}|{STOP})")


def snippet_html(raw: str) -> SafeString:
    """The snippet escaped, with its matches in ``<mark>``."""
    parts: list[str] = []
    inside = False
    for piece in _MARKERS.split(raw):
        if piece == START:
            if not inside:
                parts.append("<mark>")
                inside = True
        elif piece == STOP:
            if inside:
                parts.append("</mark>")
                inside = False
        elif piece:
            parts.append(escape(piece))
    if inside:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # noqa: S308 (every piece of text went through escape)


def snippet_text(raw: str) -> str:
    """The snippet as plain text (the API's ``snippet``)."""
    return _MARKERS.sub("", raw)
