"""How the console treats a customer's attachment: what type it is served as, and how shown.

The content type was chosen by the sender. Only well-formed types are echoed,
and only media a browser displays without running anything (images and videos,
but not SVG, which may carry scripts) are shown inline; everything else is a
download. The timeline and the attachment view both decide here, so a
thumbnail never points at a download.
"""

import re

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
