"""Which files customers may send, on every channel: ``ATTACHMENT_ALLOWED_TYPES`` and more.

A file is refused when its declared type is not allowed (or is a document a browser
runs scripts in: HTML, SVG), when its name says it is a program or a web page
whatever its declared type (``invoice.pdf.exe``, ``poly.html``), or when its first
bytes contradict its type (a program renamed ``photo.png``). The widget checks while
the upload streams in (``widget.uploads``); e-mail and messaging before ingest.
"""

import mimetypes
from pathlib import PurePosixPath

from django.conf import settings

# Browsers render these as documents that can run scripts: never accepted from customers.
SCRIPTABLE_TYPES = {"image/svg+xml", "text/html", "application/xhtml+xml"}
EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows PE
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
)
IMAGE_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF
    b"MM\x00*",
)
# Names that run when opened, whatever the type the sender declared.
DANGEROUS_EXTENSIONS = {
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".dll", ".cpl",
    ".js", ".mjs", ".jse", ".vbs", ".vbe", ".wsf", ".wsh", ".hta", ".ps1", ".psm1",
    ".jar", ".sh", ".apk", ".app", ".lnk", ".reg", ".html", ".htm", ".xhtml", ".shtml",
    ".svg", ".svgz", ".xht", ".mht", ".mhtml",
}  # fmt: skip


def declared_type_allowed(content_type: str) -> bool:
    """The declared type is one the settings accept (never a scriptable document)."""
    content_type = content_type.strip().lower()
    if not content_type or content_type in SCRIPTABLE_TYPES:
        return False
    return any(content_type.startswith(prefix) for prefix in settings.ATTACHMENT_ALLOWED_TYPES)


def name_allowed(filename: str) -> bool:
    """The name does not make it a program or a web page once saved or opened."""
    suffix = PurePosixPath(filename.replace("\\", "/").strip().rstrip(". ")).suffix.lower()
    if suffix in DANGEROUS_EXTENSIONS:
        return False
    guessed, _ = mimetypes.guess_type(f"file{suffix}", strict=False)
    return guessed not in SCRIPTABLE_TYPES


def content_matches_type(content_type: str, head: bytes) -> bool:
    """The first bytes do not contradict the declared type.

    Images must start like an image format a phone or a browser produces, PDFs
    must carry the PDF marker, and nothing may start like an executable. This
    catches a program renamed ``photo.png``; it is not a full format parser.
    """
    content_type = content_type.strip().lower()
    if head.startswith(EXECUTABLE_SIGNATURES):
        return False
    if content_type.startswith("image/"):
        is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        is_iso_media = head[4:8] == b"ftyp"  # HEIC / AVIF from phone cameras
        return head.startswith(IMAGE_SIGNATURES) or is_webp or is_iso_media
    if content_type == "application/pdf":
        return b"%PDF-" in head
    return True


def attachment_allowed(filename: str, content_type: str, content: bytes) -> bool:
    """All of the above, for a file already in memory (e-mail, messaging)."""
    return (
        declared_type_allowed(content_type)
        and name_allowed(filename)
        and len(content) <= settings.ATTACHMENT_MAX_BYTES
        and content_matches_type(content_type, content[:1024])
    )
