"""Masking of payment card numbers (PANs) before anything is stored, logged or published.

A candidate is a run of 12 to 19 digits, optionally grouped by single spaces,
dashes or dots. It is masked when it passes the Luhn check and starts with a
prefix a card scheme issues; only the first six and last four digits survive.
Numbers preceded by ``+`` (phone numbers) and digits inside URLs are left alone.

The card's security code goes too: three or four digits after a label (CVV, CVC,
cryptogramme, security code…) anywhere, and the first group of three or four
digits standing alone shortly after a masked card ("4111 …1111 12/27 737": an
expiry date is skipped, not masked).
"""

import base64
import email
import email.policy
import quopri
import re

# A run of digits grouped by single spaces or dashes, with any leading "+" kept so
# that phone numbers can be recognised and skipped.
_DIGIT_RUN = re.compile(r"(?<![\d+])\+?\d(?:[ .-]?\d)*")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
MASK_CHAR = "*"
# A security code after its label: "CVV 123", "cvc2: 1234", "cryptogramme : 123".
_LABELLED_CODE = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cvn|cid|csc|cryptogramme|crypto|"
    r"code\s+(?:de\s+)?s[ée]curit[ée]|security\s+code|card\s+code)\b[^\d\n]{0,15}?(\d{3,4})(?!\d)"
)
# A card this module masked: digits with mask characters between them.
_MASKED_CARD = re.compile(r"\d[\d .-]*\*[\d* .-]*\d")
# How far after a masked card a lone security code is looked for.
_CODE_REACH = 25
_NUMBER = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def has_card_prefix(digits: str) -> bool:
    """True for the issuer prefixes of the schemes in use (Visa, Mastercard, Amex, ...)."""
    two, three, four, six = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    return (
        digits[0] == "4"  # Visa
        or 51 <= two <= 55
        or 222100 <= six <= 272099  # Mastercard
        or two in (34, 37)  # American Express
        or two == 36
        or 300 <= three <= 305
        or two in (38, 39)  # Diners Club
        or four == 6011
        or two == 65
        or 644 <= three <= 649
        or 622126 <= six <= 622925  # Discover
        or 3528 <= four <= 3589  # JCB
        or two == 62  # UnionPay
        or two in (50, 56, 57, 58, 63, 67)  # Maestro
        or four in (6304, 6759, 6761, 6762, 6763)
    )


def _find_card(digits: str, group_starts: list[int]) -> tuple[int, int] | None:
    """The first (start, end) digit window that is a card number, longest first."""
    for start in group_starts:
        for length in range(min(19, len(digits) - start), 11, -1):
            window = digits[start : start + length]
            if has_card_prefix(window) and luhn_valid(window):
                return start, start + length
    return None


def _mask_run(match: re.Match[str]) -> str:
    raw = match.group(0)
    if raw.startswith("+"):
        return raw
    digit_positions = [i for i, char in enumerate(raw) if char.isdigit()]
    if len(digit_positions) < 12:
        return raw
    digits = "".join(raw[i] for i in digit_positions)
    chars = list(raw)
    offset = 0
    while len(digits) - offset >= 12:
        group_starts = [
            n
            for n in range(offset, len(digits) - 11)
            if n == offset or digit_positions[n] - digit_positions[n - 1] > 1
        ]
        found = _find_card(digits, group_starts)
        if found is None:
            break
        start, end = found
        for n in range(start + 6, end - 4):
            chars[digit_positions[n]] = MASK_CHAR
        offset = end
    return "".join(chars)


def mask_card_numbers(text: str) -> str:
    """Return ``text`` with every card number reduced to its first 6 and last 4 digits."""
    if not text or sum(c.isdigit() for c in text) < 12:
        return text
    pieces: list[str] = []
    position = 0
    for url in _URL.finditer(text):
        pieces.append(_DIGIT_RUN.sub(_mask_run, text[position : url.start()]))
        pieces.append(url.group(0))
        position = url.end()
    pieces.append(_DIGIT_RUN.sub(_mask_run, text[position:]))
    return _mask_security_codes("".join(pieces))


def _mask_labelled_code(match: re.Match[str]) -> str:
    label = match.group(0)[: match.start(1) - match.start()]
    return label + MASK_CHAR * len(match.group(1))


def _mask_security_codes(text: str) -> str:
    """Mask labelled security codes, and a lone 3-4 digit group right after a masked card."""
    if not any(char.isdigit() for char in text):
        return text
    text = _LABELLED_CODE.sub(_mask_labelled_code, text)
    if MASK_CHAR not in text:
        return text
    chars = list(text)
    for card in _MASKED_CARD.finditer(text):
        reach = text[card.end() : card.end() + _CODE_REACH]
        for number in _NUMBER.finditer(reach):
            before = reach[number.start() - 1] if number.start() else ""
            after = reach[number.end()] if number.end() < len(reach) else ""
            if "\n" in reach[: number.start()] or "+" in reach[: number.start()]:
                break
            if before == "/" or after == "/" or len(number.group(0)) not in (3, 4):
                if len(number.group(0)) > 4:
                    break
                continue  # an expiry date or a stray digit: look further
            start = card.end() + number.start()
            for index in range(start, start + len(number.group(0))):
                chars[index] = MASK_CHAR
            break
    return "".join(chars)


def shown_in_error(value: str, limit: int = 100) -> str:
    """``value`` quoted for an error message: cut to ``limit`` characters, card numbers masked.

    Error messages reach logs and 400 answers, which nothing else masks; a card
    number typed into the wrong field must not end up there. Masking is done
    before the final cut (a card cut in two would escape it), on a bounded
    prefix (masking a huge string is slow).
    """
    return repr(mask_card_numbers(value[: limit * 2])[:limit])


def mask_raw_mail(raw: bytes) -> bytes:
    """``raw`` (an RFC 5322 message, as quarantined) with its card numbers masked.

    Digits in the clear (headers, 8-bit and quoted-printable bodies) are masked in
    place, byte for byte; text parts in base64 or quoted-printable that hide one
    are decoded, masked and encoded again. A mail without card numbers is returned
    unchanged, byte for byte: the quarantine keeps mail as received otherwise.
    """
    if not raw:
        return raw
    masked = mask_card_numbers(raw.decode("latin-1")).encode("latin-1")
    return _mask_encoded_text_parts(masked)


def _mask_encoded_text_parts(raw: bytes) -> bytes:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    changed = False
    for part in message.walk():
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if part.is_multipart() or encoding not in ("base64", "quoted-printable"):
            continue
        if part.get_content_maintype() != "text":
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = (part.get_payload(decode=True) or b"").decode(charset)
        except (LookupError, UnicodeDecodeError):
            charset = "latin-1"
            text = (part.get_payload(decode=True) or b"").decode(charset)
        masked = mask_card_numbers(text)
        if masked == text:
            continue
        data = masked.encode(charset, errors="replace")
        if encoding == "base64":
            payload = base64.encodebytes(data).decode("ascii")
        else:
            payload = quopri.encodestring(data).decode("ascii")
        part.set_payload(payload)
        changed = True
    return message.as_bytes() if changed else raw
