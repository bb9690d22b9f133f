"""Turning a raw RFC 5322 message into ``ParsedMail`` and then ``InboundMessage``.

Real-world mail is routinely wrong: mislabelled or unknown charsets, missing
headers, broken MIME, absurd header sizes. Every such case degrades to "best
effort" rather than an exception, because a mail that raises here would be
quarantined and a customer's words delayed. Only input with nothing readable
in it raises ``UnparseableMail``.

Conventions:

* Message-IDs (``message_id``, ``in_reply_to``, ``references``) are stored
  *without* angle brackets, e.g. ``"abc.123@mail.example.com"``.
* Bodies are never logged; reasons in ``UnparseableMail`` describe structure only.
"""

import binascii
import codecs
import email
import email.policy
import hashlib
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.tenancy.models import Brand
from comptoir.text_cleaning import clean_text
from comptoir.touchpoints.email.addresses import address_tokens
from comptoir.touchpoints.email.html_text import html_to_text, sanitise_html
from comptoir.touchpoints.email.loops import AutoSubmission, classify_auto_submission

MAX_RAW_HEADER_CHARS = 100_000  # decoded beyond this would only be noise
MAX_SUBJECT_CHARS = 1_000
MAX_NAME_CHARS = 200
MAX_MESSAGE_ID_CHARS = 998  # RFC 5322 line limit
MAX_EXTERNAL_ID_CHARS = 255  # Message.external_id column
MAX_REFERENCES = 100
MAX_ADDRESSES = 100
MAX_ADDRESS_CHARS = 320  # RFC 5321: 64 + @ + 255
MAX_TEXT_CHARS = 1_000_000
MAX_FORWARD_TEXT_CHARS = 20_000
MAX_DEPTH = 10  # nesting of multiparts and forwards
MAX_FILENAME_CHARS = 200
MAX_PARTS_FOR_MODERN_POLICY = 1_000
MAX_ATTACHMENTS = 200  # beyond this a mail is an archive dump, not a customer message

TRUNCATION_MARK = "\n[…]"
_BOUNDARY_LINE = re.compile(rb"^--", re.MULTILINE)


class UnparseableMail(Exception):
    """Nothing usable could be read; ``reason`` is stored with the quarantined raw mail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MailAttachment:
    """An attachment or inline part. ``inline`` parts carry the ``content_id`` HTML refers to."""

    filename: str
    content_type: str
    content: bytes
    inline: bool = False
    content_id: str = ""

    def __post_init__(self) -> None:
        for name in ("filename", "content_type", "content_id"):
            object.__setattr__(self, name, clean_text(getattr(self, name)))

    def as_inbound(self) -> InboundAttachment:
        return InboundAttachment(self.filename, self.content_type, self.content)


@dataclass(frozen=True)
class ParsedMail:
    """Everything later steps (threading, loops, storage) need from one mail."""

    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    to_addresses: list[str]
    cc_addresses: list[str]
    date: datetime | None
    text: str
    html: str
    attachments: list[MailAttachment]
    auto_submitted: AutoSubmission
    forwarded_subjects: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    raw_sha256: str = ""

    def __post_init__(self) -> None:
        """Every header and body text storable (no NUL, no lone surrogate): mail holds anything."""
        for name, value in list(vars(self).items()):
            if isinstance(value, str):
                object.__setattr__(self, name, clean_text(value))
            elif isinstance(value, list) and value and isinstance(value[0], str):
                object.__setattr__(self, name, [clean_text(item) for item in value])

    @property
    def external_id(self) -> str:
        """The delivery key: the Message-ID, or a hash when it is missing or too long."""
        if self.message_id and len(self.message_id) <= MAX_EXTERNAL_ID_CHARS:
            return self.message_id
        if self.message_id:
            return "mid-sha256:" + hashlib.sha256(self.message_id.encode()).hexdigest()
        return "sha256:" + self.raw_sha256


def parse_mail(raw: bytes, *, brand: Brand | None = None) -> ParsedMail:
    """Parse a raw RFC 5322 message; never raises except ``UnparseableMail``.

    ``brand`` is accepted for symmetry with the other touchpoints (per-brand
    parsing rules may come later); the parse itself does not depend on it.
    """
    if not isinstance(raw, bytes | bytearray):
        raise UnparseableMail("input is not bytes")
    raw = bytes(raw)
    if not raw.strip():
        raise UnparseableMail("empty message")
    # The modern policy builds a header object per part header, ~0.4 ms each: a mail
    # of thousands of parts (an archive dump, an attack) goes straight to compat32.
    if len(_BOUNDARY_LINE.findall(raw, 0, 50_000_000)) <= MAX_PARTS_FOR_MODERN_POLICY:
        try:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            return _parse_message(message, raw)
        except UnparseableMail:
            raise
        except Exception:  # noqa: S110 — the modern policy choked: retry with the lenient one
            pass
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        return _parse_message(message, raw)
    except UnparseableMail:
        raise
    except Exception as error:
        raise UnparseableMail(f"parser failed: {type(error).__name__}") from error


def to_inbound(parsed: ParsedMail, brand: Brand, *, authenticated: bool = True) -> InboundMessage:
    """The channel-neutral message for ``ingest_message``.

    The From address counts as verified when the mail is authenticated
    (``authentication.authenticate_sender``, from the receiving MTA's SPF/DKIM/DMARC
    verdict): it is what e-mail identity rests on.
    """
    identities = []
    if parsed.from_address:
        identities.append(IdentityClaim("email", parsed.from_address, verified=authenticated))
    return InboundMessage(
        brand=brand,
        channel="email",
        external_id=parsed.external_id,
        text=parsed.text,
        identities=identities,
        attachments=[attachment.as_inbound() for attachment in parsed.attachments],
        display_name=parsed.from_name,
        received_at=parsed.date,
    )


# --- Whole message ---------------------------------------------------------------------------


def _parse_message(message: Message, raw: bytes) -> ParsedMail:
    if not _looks_like_mail(message):
        raise UnparseableMail("no header and no MIME structure")
    body = _Body()
    _collect(message, body, depth=0)
    # Only From: Reply-To is whatever the sender typed, not who they are.
    from_name, from_address = _first_address(message, "From")

    text = "\n\n".join(piece.strip("\n") for piece in body.texts if piece.strip())
    html = "\n".join(body.htmls)
    if not text.strip() and html:
        text = html_to_text(html)
    if body.forwards:
        text = "\n\n".join(piece.strip("\n") for piece in [text, *body.forwards] if piece.strip())
    text = _cap(text.strip("\n"), MAX_TEXT_CHARS)

    if not (from_address or text.strip() or body.attachments or read_header(message, "Subject")):
        raise UnparseableMail("no sender, subject, text or attachment")
    if not from_address and not message.keys() and _is_binary(text):
        raise UnparseableMail("no header and a binary body")

    defects = sorted({type(defect).__name__ for part in message.walk() for defect in part.defects})
    return ParsedMail(
        message_id=_first_message_id(read_header(message, "Message-ID")),
        in_reply_to=_first_message_id(read_header(message, "In-Reply-To")),
        references=_message_ids(read_header(message, "References")),
        subject=_cap(_single_line(read_header(message, "Subject")), MAX_SUBJECT_CHARS),
        from_address=from_address,
        from_name=from_name,
        to_addresses=_addresses(message, "To"),
        cc_addresses=_addresses(message, "Cc"),
        date=_date(message),
        text=text,
        html=sanitise_html(html) if html else "",
        attachments=body.attachments,
        auto_submitted=classify_auto_submission(message, read_header),
        forwarded_subjects=body.forwarded_subjects,
        defects=defects,
        raw_sha256=hashlib.sha256(raw).hexdigest(),
    )


def _is_binary(text: str) -> bool:
    sample = text[:4096]
    unreadable = sum(
        1 for char in sample if char == "\ufffd" or (ord(char) < 32 and char not in "\n\t")
    )
    return unreadable > len(sample) * 0.3


def _looks_like_mail(message: Message) -> bool:
    """Anything with at least one header or some body is worth keeping."""
    if len(message.keys()) > 0:
        return True
    payload = message.get_payload()
    return bool(payload.strip()) if isinstance(payload, str) else bool(payload)


# --- Headers ---------------------------------------------------------------------------------


def read_header(message: Message, name: str) -> str:
    """The decoded value of a header (first occurrence), or ``""``; never raises.

    Decoding is done here rather than by the modern policy's header objects so
    that absurd headers are capped *before* decoding, and unknown charsets in
    encoded words degrade instead of raising.
    """
    raw = _raw_header(message, name)
    return decode_header_value(raw) if raw else ""


def _raw_header(message: Message, name: str) -> str:
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)[:MAX_RAW_HEADER_CHARS]
    return ""


def decode_header_value(raw: str) -> str:
    """Decode RFC 2047 encoded words (any charset) and raw 8-bit header bytes."""
    unfolded = re.sub(r"\r?\n[ \t]", " ", raw).replace("\r", "").replace("\n", "")
    unfolded = _undo_surrogates(unfolded)
    if "=?" not in unfolded:
        return unfolded.replace("\x00", "").strip()
    try:
        parts = decode_header(unfolded)
    except Exception:  # malformed encoded word: show it as written
        return unfolded.replace("\x00", "").strip()
    decoded = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            decoded.append(decode_bytes(chunk, charset))
        else:
            decoded.append(chunk)
    return "".join(decoded).replace("\x00", "").strip()


def _undo_surrogates(value: str) -> str:
    """8-bit header bytes arrive as surrogate escapes: read them as UTF-8, else Windows-1252."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    data = value.encode("utf-8", errors="surrogateescape")
    return decode_bytes(data, None)


def _single_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _first_message_id(value: str) -> str:
    ids = _message_ids(value)
    return ids[0] if ids else ""


def _message_ids(value: str) -> list[str]:
    """Message-IDs without angle brackets, in order, deduplicated, capped (root kept)."""
    found = re.findall(r"<([^<>\s]+)>", value) or [
        token.strip("<>,;") for token in value.split() if "@" in token
    ]
    ids = [mid[:MAX_MESSAGE_ID_CHARS] for mid in dict.fromkeys(found) if mid]
    if len(ids) > MAX_REFERENCES:
        # The first is the thread's root, the last ones the nearest parents.
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return ids


def _addresses(message: Message, name: str) -> list[str]:
    return [address for _, address in _parsed_addresses(message, name)][:MAX_ADDRESSES]


def _first_address(message: Message, name: str) -> tuple[str, str]:
    pairs = _parsed_addresses(message, name)
    return pairs[0] if pairs else ("", "")


def _parsed_addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs, decoded; only entries with a plausible address."""
    raw = _undo_surrogates(_raw_header(message, name))
    if not raw:
        return []
    unfolded = re.sub(r"\r?\n[ \t]", " ", raw)
    try:
        pairs = getaddresses([unfolded])
    except Exception:
        pairs = []
    result = []
    for display_name, address in pairs:
        address = address.strip().strip("<>").strip()
        # Length first: the pattern backtracks quadratically on a long near-miss.
        if len(address) > MAX_ADDRESS_CHARS or not re.fullmatch(
            r"[^\s@<>]+@[^\s@<>]+\.?[^\s@<>]*", address
        ):
            continue
        name_text = _single_line(decode_header_value(display_name))[:MAX_NAME_CHARS]
        result.append((name_text.strip("\"' "), address.lower()))
    if not result:
        # getaddresses gives up on some broken lists; pick out anything address-shaped.
        for address in address_tokens(unfolded, dotted=True):
            if len(address) <= MAX_ADDRESS_CHARS:
                result.append(("", address.lower()))
    return result


def _date(message: Message) -> datetime | None:
    value = read_header(message, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000": the sender did not know their zone; UTC is honest
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --- Bodies ----------------------------------------------------------------------------------


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[MailAttachment] = field(default_factory=list)
    forwards: list[str] = field(default_factory=list)
    forwarded_subjects: list[str] = field(default_factory=list)


def _collect(part: Message, body: _Body, depth: int) -> None:
    """Walk the MIME tree, sorting parts into body text, HTML, attachments and forwards."""
    content_type = _content_type(part)
    if depth > MAX_DEPTH:
        return
    if content_type == "message/rfc822":
        _collect_forward(part, body, depth)
        return
    if content_type.startswith("multipart/") and isinstance(part.get_payload(), str):
        _collect_unsplit_multipart(part, body, depth)
        return
    if content_type.startswith("multipart/") or isinstance(part.get_payload(), list):
        children = [child for child in _children(part) if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            _collect_alternative(children, body, depth)
        else:
            for child in children:
                _collect(child, body, depth + 1)
        return
    if content_type == "message/delivery-status":
        return  # read by the loop classifier; its text is machine noise
    disposition = _disposition(part)
    filename = _filename(part)
    is_body_text = content_type in ("text/plain", "text/html") and disposition != "attachment"
    if is_body_text and (not filename or disposition == "inline"):
        text = _part_text(part)
        if content_type == "text/html":
            body.htmls.append(text)
        else:
            body.texts.append(text)
        return
    _collect_attachment(part, body, content_type, disposition, filename)


def _collect_unsplit_multipart(part: Message, body: _Body, depth: int) -> None:
    """A multipart the parser could not split (no ``boundary=``): guess it from the body."""
    payload = _payload_bytes(part)
    guessed = re.match(rb"\s*--([!-~]{1,70}?)(--)?\r?\n", payload)
    if guessed and depth < MAX_DEPTH:
        boundary = guessed.group(1).decode("ascii")
        header = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        rebuilt = email.message_from_bytes(header.encode() + payload, policy=email.policy.compat32)
        if isinstance(rebuilt.get_payload(), list):
            _collect(rebuilt, body, depth + 1)
            return
    body.texts.append(_part_text(part))


def _collect_alternative(children: list[Message], body: _Body, depth: int) -> None:
    """Prefer the plain text version; keep the richest HTML; keep every attachment."""
    versions = []
    for child in children:
        version = _Body()
        _collect(child, version, depth + 1)
        versions.append(version)
    plain = [v for v in versions if any(t.strip() for t in v.texts)]
    rich = [v for v in versions if v.htmls]
    if plain:
        body.texts.extend(plain[0].texts)
    elif rich:
        body.texts.append(html_to_text("\n".join(rich[-1].htmls)))
    if rich:
        body.htmls.extend(rich[-1].htmls)
    for version in versions:
        body.attachments.extend(version.attachments)
        body.forwards.extend(version.forwards)
        body.forwarded_subjects.extend(version.forwarded_subjects)


def _collect_forward(part: Message, body: _Body, depth: int) -> None:
    """A forwarded mail: kept whole as ``<subject>.eml``, summarised in the text."""
    inner = _forwarded_message(part)
    if inner is None:
        _collect_attachment(part, body, "message/rfc822", "attachment", _filename(part))
        return
    subject = _single_line(read_header(inner, "Subject"))[:MAX_SUBJECT_CHARS]
    inner_body = _Body()
    _collect(inner, inner_body, depth + 1)
    inner_text = "\n\n".join(t.strip("\n") for t in inner_body.texts if t.strip())
    if not inner_text.strip() and inner_body.htmls:
        inner_text = html_to_text("\n".join(inner_body.htmls))
    inner_text = "\n\n".join(t for t in [inner_text, *inner_body.forwards] if t.strip())
    name, address = _first_address(inner, "From")
    sender = f"{name} <{address}>" if name and address else address or name
    lines = ["---------- Forwarded message ----------"]
    if sender:
        lines.append(f"From: {sender}")
    if date := read_header(inner, "Date"):
        lines.append(f"Date: {_single_line(date)}")
    if subject:
        lines.append(f"Subject: {subject}")
    block = "\n".join(lines) + "\n\n" + _cap(inner_text.strip(), MAX_FORWARD_TEXT_CHARS)
    body.forwards.append(block.strip())
    body.forwarded_subjects.append(subject)
    body.attachments.append(
        MailAttachment(
            filename=_safe_filename(f"{subject or 'forwarded message'}.eml"),
            content_type="message/rfc822",
            content=_message_bytes(inner),
        )
    )


def _forwarded_message(part: Message) -> Message | None:
    payload = part.get_payload()
    encoding = read_header(part, "Content-Transfer-Encoding").strip().lower()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        if encoding not in ("base64", "quoted-printable"):
            return payload[0]
        # Forbidden by RFC 2046 but seen: the parser read the *encoded* text as a message.
        encoded = _message_bytes(payload[0])
        try:
            data = (
                binascii.a2b_base64(encoded)
                if encoding == "base64"
                else quopri.decodestring(encoded)
            )
        except (binascii.Error, ValueError):
            return payload[0]
        return email.message_from_bytes(data, policy=email.policy.compat32)
    # A message/rfc822 part encoded in base64 (forbidden, but seen) stays a string.
    data = _payload_bytes(part)
    if not data.strip():
        return None
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=email.policy.compat32)
    except Exception:  # regenerating broken mail may fail; keep the text
        return message.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")


def _collect_attachment(
    part: Message, body: _Body, content_type: str, disposition: str, filename: str
) -> None:
    if len(body.attachments) >= MAX_ATTACHMENTS:
        return
    content_id = read_header(part, "Content-ID").strip().strip("<>")[:MAX_MESSAGE_ID_CHARS]
    inline = disposition == "inline" or (disposition != "attachment" and bool(content_id))
    if not filename:
        extension = mimetypes.guess_extension(content_type or "") or (
            ".txt" if content_type.startswith("text/") else ".bin"
        )
        stem = "inline" if inline else "attachment"
        filename = f"{stem}-{len(body.attachments) + 1}{extension}"
    body.attachments.append(
        MailAttachment(
            filename=filename,
            content_type=content_type or "application/octet-stream",
            content=_payload_bytes(part),
            inline=inline,
            content_id=content_id,
        )
    )


def _children(part: Message) -> list:
    payload = part.get_payload()
    return payload if isinstance(payload, list) else []


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message) -> str:
    """The decoded file name: RFC 2231 (``filename*=``), encoded words, or ``name=``."""
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        name = ""
    if isinstance(name, tuple):  # an undecoded RFC 2231 triple
        charset, _, value = name
        name = decode_bytes(value.encode("latin-1", "replace"), charset)
    name = str(name)
    if "=?" in name:
        name = decode_header_value(name)
    return _safe_filename(_undo_surrogates(name)) if name.strip() else ""


def _safe_filename(name: str) -> str:
    """No paths, no control characters, a sane length; the extension survives truncation."""
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".") or "attachment"
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


def _payload_bytes(part: Message) -> bytes:
    """Decoded transfer encoding (base64/quoted-printable); lenient about errors."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text = decode_bytes(_payload_bytes(part), charset)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


# --- Charsets --------------------------------------------------------------------------------

_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "us", "646"}
# What mail clients mean by these labels is the Windows superset (as in WHATWG).
_WINDOWS_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
}


def _windows_1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read the offending bytes as Windows-1252 and carry on."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return bytes(chunk).decode("cp1252", errors="replace"), error.end


codecs.register_error("comptoir-windows-1252", _windows_1252_bytes)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text in its declared charset, falling back so that it never raises.

    A declared "us-ascii" with 8-bit bytes is almost always Windows-1252 (or
    UTF-8) sent by a client that lied; unknown charsets get UTF-8, then
    Windows-1252 with replacement characters.
    """
    label = (charset or "").strip().strip("\"'").lower()
    label = _WINDOWS_SUPERSETS.get(label, label)
    if label and label not in _ASCII_LABELS:
        try:
            return data.decode(label)
        except LookupError:
            pass  # unknown or non-text codec ("base64", "rot13"…): guess below
        except UnicodeDecodeError:
            if label.replace("_", "-") in ("utf-8", "utf8"):
                return data.decode("utf-8", errors="comptoir-windows-1252")
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                return data.decode(label, errors="replace")
        except Exception:  # noqa: S110 — some codecs raise other errors on garbage
            pass
    # Mostly UTF-8 with a few stray 8-bit bytes (mixed sources, bad quoted-printable)
    # reads best byte by byte: UTF-8 where valid, Windows-1252 elsewhere.
    return data.decode("utf-8", errors="comptoir-windows-1252")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATION_MARK
