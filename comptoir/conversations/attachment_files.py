"""How a customer's attachment is served back, to agents and to the customer alike.

The content type was chosen by the sender. Only well-formed types are echoed,
and only images a browser displays without running anything (PNG, JPEG, GIF, WebP,
BMP, whose first bytes agree) are served inline, under a name ending like one;
everything else (videos included: their element plays a download all the same) is
a download, with ``nosniff``. The console, its timeline and the widget all decide here, so a
thumbnail never points at a download.
"""

import re

from django.http import FileResponse, Http404

from comptoir.conversations.attachment_policy import content_matches_type
from comptoir.conversations.models import Attachment

HEAD_BYTES = 64

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
# Shown inline when the file's first bytes say so; everything else is a download
# (a <video> or <img> element plays or shows a download all the same).
INLINE_IMAGE_EXTENSIONS = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jfif"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/bmp": (".bmp",),
}


def _inline_filename(filename: str, content_type: str) -> str:
    """The name an image is shown under ends like an image (``poly.html`` → ``poly.html.png``)."""
    extensions = INLINE_IMAGE_EXTENSIONS[content_type]
    return filename if filename.lower().endswith(extensions) else filename + extensions[0]


def attachment_response(attachment: Attachment) -> FileResponse:
    """Stream the file: inline only a safe image whose bytes agree, never sniffed, private.

    An imported attachment whose file the export did not hold has no file: 404.
    """
    if not attachment.file:
        raise Http404("Only this attachment's name was imported.")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("Attachment file is missing.") from None
    content_type = served_content_type(attachment.content_type)
    filename = attachment.filename
    inline = False
    if content_type in INLINE_IMAGE_EXTENSIONS:
        head = handle.read(HEAD_BYTES)
        handle.seek(0)
        inline = content_matches_type(content_type, head)
        if inline:
            filename = _inline_filename(filename, content_type)
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=filename,
        content_type=content_type
        if inline or content_type not in INLINE_IMAGE_EXTENSIONS
        # An image whose bytes say otherwise is sent as what it is to us: bytes.
        else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cache-Control"] = "private, max-age=3600"
    return response
