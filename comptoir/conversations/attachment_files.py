"""How a customer's attachment is served back, to agents and to the customer alike.

The content type was chosen by the sender. Only well-formed types are echoed,
and only media a browser displays without running anything (images and videos,
but not SVG, which may carry scripts) are shown inline; everything else is a
download. The console, its timeline and the widget all decide here, so a
thumbnail never points at a download.
"""

import re

from django.http import FileResponse, Http404

from comptoir.conversations.models import Attachment

_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_SCRIPTABLE_IMAGE_TYPES = {"image/svg+xml"}


def served_content_type(raw: str) -> str:
    """The type to send: the stored one when well-formed, else an opaque byte stream."""
    content_type = raw.strip().lower()
    return content_type if _CONTENT_TYPE.match(content_type) else "application/octet-stream"


def display_kind(raw: str) -> str:
    """``image`` or ``video`` (shown inline) or ``file`` (download link)."""
    content_type = served_content_type(raw)
    if content_type in _SCRIPTABLE_IMAGE_TYPES:
        return "file"
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    return "file"


# The response may neither run nor load anything, whoever opens it.
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def attachment_response(attachment: Attachment) -> FileResponse:
    """Stream the file: inline only when ``display_kind`` allows, never sniffed, private."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("Attachment file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=display_kind(attachment.content_type) == "file",
        filename=attachment.filename,
        content_type=served_content_type(attachment.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cache-Control"] = "private, max-age=3600"
    return response
