"""``receive_mail``: the one path of an inbound mail, whatever brought it.

The SMTP listener, the HTTP endpoint, ``import-mail`` and IMAP polling all
hand the raw bytes here. Steps: route to a brand (by recipient, or the brand
the caller already knows), parse, sort out machines (bounces mark addresses
failing; auto-replies are logged and dropped), find the conversation the mail
answers, ingest (a listener acknowledges a new conversation). Whatever cannot be parsed or
stored is quarantined raw with the reason, so no mail is ever lost.

A transient database failure (``OperationalError``/``InterfaceError``) is
*raised*, not quarantined: the caller must tell the sender to retry (SMTP 451,
HTTP 503), since the quarantine lives in the same database.

A bounce marks addresses failing only when it references a mail Comptoir
sent to them (see ``mark_addresses_failing``); any other is logged and dropped
(``ignored``), since anyone can forge one.

Auto-replies (out-of-office, ``Precedence: bulk``…) are not stored, even when
they answer a known conversation: they carry nothing an agent acts on, and
keeping them out of the timeline keeps them from reopening or re-sorting it.
They are logged with the reason.
"""

import email.message
import email.parser
import email.policy
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from comptoir.conversations.actions import add_note
from comptoir.conversations.attachment_policy import attachment_allowed
from comptoir.conversations.inbound import InboundMessage
from comptoir.conversations.ingest import IngestResult, ingest_message
from comptoir.conversations.models import AuthorKind, Channel, Direction, Message
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import Identity, IdentityKind
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER, SYSTEM
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers, mask_raw_mail
from comptoir.tenancy.models import Brand
from comptoir.text_cleaning import clean_data, clean_text
from comptoir.touchpoints.email.addresses import address_tokens
from comptoir.touchpoints.email.authentication import authenticate_sender
from comptoir.touchpoints.email.loops import AutoSubmission, AutoSubmittedKind
from comptoir.touchpoints.email.message_ids import normalise_message_id
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.parsing import (
    ParsedMail,
    UnparseableMail,
    decode_header_value,
    parse_mail,
    to_inbound,
)

logger = logging.getLogger(__name__)

# A database that is down or locked: the sender should retry later, nothing is lost.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
DEFAULT_REOPEN_WINDOW_DAYS = 7
_SUBJECT_REFERENCE = re.compile(r"\[#(\d{1,18})\]")
_ROUTING_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")


class OutcomeKind(StrEnum):
    INGESTED = "ingested"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"  # an auto-reply or an unverified bounce: logged, not stored
    BOUNCE = "bounce"
    REJECTED = "rejected"  # no mailbox of any brand is a recipient


@dataclass
class MailOutcome:
    """What became of one mail; ``as_json`` is what the HTTP endpoint answers."""

    kind: OutcomeKind
    brand: Brand | None = None
    message: Message | None = None
    conversation_id: int | None = None
    conversation_created: bool = False
    acknowledged: bool = False
    reason: str = ""
    quarantined: QuarantinedMail | None = None
    failed_recipients: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.kind.value,
            "message_id": self.message.pk if self.message else None,
            "conversation_id": self.conversation_id,
            "conversation_created": self.conversation_created,
            "acknowledged": self.acknowledged,
            "reason": self.reason,
            "quarantine_id": self.quarantined.pk if self.quarantined else None,
            "failed_recipients": self.failed_recipients,
        }

    def describe(self) -> str:
        """One human line (logs, ``import-mail``): e.g. ``conversation #12``."""
        if self.kind in (OutcomeKind.INGESTED, OutcomeKind.DUPLICATE):
            return f"conversation #{self.conversation_id}"
        if self.kind == OutcomeKind.BOUNCE:
            return f"({', '.join(self.failed_recipients) or 'no recipient found'})"
        return f"({self.reason})"


def receive_mail(
    raw: bytes,
    *,
    recipients: list[str] | None,
    brand: Brand | None,
    source: str,
    envelope_sender: str = "",
) -> MailOutcome:
    """Route, parse, thread and store one raw mail; see the module docstring.

    ``recipients``: the SMTP envelope's (None: read To/Cc/Delivered-To).
    ``brand``: set when the caller already knows it (API token, ``--brand``,
    the IMAP mailbox); it wins over the recipients.
    """
    return _receive(
        bytes(raw),
        recipients=recipients,
        brand=brand,
        source=source,
        envelope_sender=envelope_sender,
        quarantined=None,
    )


def retry_quarantined(quarantined: QuarantinedMail) -> MailOutcome:
    """Run a quarantined mail through ``receive_mail`` again (after a fix, say).

    Success marks it resolved; another failure updates its reason and attempt
    count rather than quarantining a second copy. A mail kept without its
    content (too large to download) has nothing to retry: it is left as is.
    """
    if not quarantined.raw:
        return MailOutcome(
            OutcomeKind.QUARANTINED,
            quarantined.brand,
            reason=quarantined.reason,
            quarantined=quarantined,
        )
    outcome = _receive(
        bytes(quarantined.raw),
        recipients=quarantined.envelope_recipients or None,
        brand=quarantined.brand,
        source=quarantined.source,
        envelope_sender=quarantined.envelope_sender,
        quarantined=quarantined,
    )
    if outcome.kind != OutcomeKind.QUARANTINED:
        quarantined.resolved = True
        quarantined.resolved_at = timezone.now()
        quarantined.resolution = f"{outcome.kind.value} {outcome.describe()}"[:300]
        quarantined.save(update_fields=["resolved", "resolved_at", "resolution"])
    return outcome


def _receive(
    raw: bytes,
    *,
    recipients: list[str] | None,
    brand: Brand | None,
    source: str,
    envelope_sender: str,
    quarantined: QuarantinedMail | None,
) -> MailOutcome:
    def keep(reason: str, brand: Brand | None) -> MailOutcome:
        record = quarantine_mail(
            raw,
            brand=brand,
            source=source,
            reason=reason,
            envelope_sender=envelope_sender,
            recipients=recipients or [],
            existing=quarantined,
        )
        return MailOutcome(OutcomeKind.QUARANTINED, brand, reason=reason, quarantined=record)

    headers = _headers(raw)
    try:
        parsed: ParsedMail | None = parse_mail(raw)
        parse_error = ""
    except UnparseableMail as error:
        parsed, parse_error = None, error.reason
    candidates = _candidate_addresses(recipients, parsed, headers)
    mailbox = _mailbox(candidates, brand)
    if brand is None:
        if mailbox is None:
            if parsed is None:  # neither readable nor routable: keep it for the operators
                return keep(f"unparseable: {parse_error}", None)
            logger.info("mail from %s refused: no mailbox among %s", envelope_sender, candidates)
            return MailOutcome(OutcomeKind.REJECTED, reason="unknown recipient")
        brand = mailbox.brand
    if parsed is None:
        return keep(f"unparseable: {parse_error}", brand)

    auto = parsed.auto_submitted
    if auto.kind is AutoSubmittedKind.BOUNCE:
        try:
            failed = mark_addresses_failing(brand, auto, parsed)
        except UnverifiedBounce as refusal:
            logger.warning(
                "bounce %s to brand %s dropped: %s", parsed.external_id, brand.slug, refusal.reason
            )
            return MailOutcome(
                OutcomeKind.IGNORED, brand, reason=f"unverified bounce: {refusal.reason}"
            )
        return MailOutcome(OutcomeKind.BOUNCE, brand, reason=auto.reason, failed_recipients=failed)
    if auto.kind is AutoSubmittedKind.AUTO_REPLY:
        logger.info(
            "auto-reply %s from %s to brand %s not stored (%s)",
            parsed.external_id,
            parsed.from_address,
            brand.slug,
            auto.reason,
        )
        return MailOutcome(OutcomeKind.IGNORED, brand, reason=f"auto-reply: {auto.reason}")
    refusal = _sender_refusal(parsed)
    if refusal:
        return keep(refusal, brand)

    reopen_days = mailbox.reopen_window_days if mailbox else DEFAULT_REOPEN_WINDOW_DAYS
    sender = authenticate_sender(headers, parsed.from_address)
    # A known customer's address without proof: a conversation of its own, flagged.
    impostor_risk = not sender.authenticated and _address_is_known(brand, parsed.from_address)
    inbound = replace(
        to_inbound(parsed, brand, authenticated=sender.authenticated),
        subject=parsed.subject,
        language=_content_language(headers),
        # A thread hint (In-Reply-To, [#id]) is only followed for an authenticated sender.
        thread_conversation_id=find_thread(brand, parsed) if sender.authenticated else None,
        reopen_window=timedelta(days=reopen_days),
        sender_unconfirmed=impostor_risk,
    )
    inbound = _without_refused_attachments(inbound, brand)
    try:
        with transaction.atomic():
            result = ingest_message(inbound)
            if result.created:
                # No acknowledgement to the address a sender could not prove.
                _mail_received(result, None if impostor_risk else mailbox)
                if impostor_risk:
                    flag_unconfirmed_sender(result.message, parsed.from_address, sender.reason)
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:
        logger.exception("mail %s to brand %s could not be stored", parsed.external_id, brand.slug)
        return keep(f"ingest failed: {type(error).__name__}: {error}"[:500], brand)

    return MailOutcome(
        OutcomeKind.INGESTED if result.created else OutcomeKind.DUPLICATE,
        brand,
        message=result.message,
        conversation_id=result.message.conversation_id,
        conversation_created=result.conversation_created,
        # Queued with the mail (``listeners.acknowledge_new_conversation``), sent by a worker.
        acknowledged=result.conversation_created
        and not impostor_risk
        and mailbox is not None
        and mailbox.acknowledge,
    )


def _without_refused_attachments(inbound: InboundMessage, brand: Brand) -> InboundMessage:
    """Files ``ATTACHMENT_ALLOWED_TYPES`` refuses are not stored; the text says which."""
    kept, notes = [], []
    for attachment in inbound.attachments:
        if attachment_allowed(attachment.filename, attachment.content_type, attachment.content):
            kept.append(attachment)
            continue
        logger.info(
            "mail %s attachment refused: %r (%s)",
            inbound.external_id,
            attachment.filename,
            attachment.content_type,
        )
        with translation.override(brand.default_language or None):
            notes.append(
                _("[Attachment “%(name)s” could not be received: %(reason)s]")
                % {"name": attachment.filename, "reason": _("this type of file is not accepted")}
            )
    if not notes:
        return inbound
    return replace(inbound, attachments=kept, text="\n\n".join([inbound.text, *notes]).strip())


def _address_is_known(brand: Brand, address: str) -> bool:
    try:
        value = normalise_identity(IdentityKind.EMAIL, address)
    except InvalidIdentity:
        return False
    return Identity.objects.filter(brand=brand, kind=IdentityKind.EMAIL, value=value).exists()


def flag_unconfirmed_sender(message: Message, address: str, reason: str) -> None:
    """A note for agents on the conversation of an unauthenticated mail from a known address."""
    with translation.override(message.brand.default_language):
        text = _(
            "Sender not authenticated (%(reason)s): this mail claims to come from "
            "%(address)s, an address of a known customer, so it was kept apart from that "
            "customer's conversations. Confirm who wrote it before sharing anything, then "
            "merge the two customers."
        ) % {"reason": reason, "address": address}
    add_note(None, message.conversation, text, author_kind=AuthorKind.SYSTEM)
    logger.warning(
        "unauthenticated mail %s claims known address of brand %s (%s): kept apart",
        message.pk,
        message.brand_id,
        reason,
    )


def _mail_received(result: IngestResult, mailbox: Mailbox | None) -> None:
    """Record, with the mail, which mailbox it came to: what its listeners need."""
    message = result.message
    append_event(
        message.brand_id,
        kinds.MAIL_RECEIVED,
        {
            "message_id": message.pk,
            "conversation_id": message.conversation_id,
            "mailbox_id": mailbox.pk if mailbox is not None else None,
            "conversation_created": result.conversation_created,
        },
        conversation=message.conversation,
        actor=CUSTOMER,
    )


def _sender_refusal(parsed: ParsedMail) -> str:
    """Why the mail's From cannot name a customer, or "" when it can.

    An e-mail's customer is its From address, so a mail without a usable one
    (none, a bare name, ``root@localhost``) is an expected refusal: it is
    quarantined with this reason in one log line. Checked before ingesting:
    there, ``ingest_message`` would raise ``InvalidIdentity`` and the mail would
    be reported as a failed ingest, with the traceback real failures need.
    """
    if not parsed.from_address:
        return "no sender address (From)"
    try:
        normalise_identity(IdentityKind.EMAIL, parsed.from_address)
    except InvalidIdentity as error:
        return f"no usable sender address (From): {error}"
    return ""


# --- Routing ---------------------------------------------------------------------------------


def _headers(raw: bytes) -> email.message.Message:
    """The header block alone, leniently (routing must work even when parsing failed)."""
    end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=-1)
    head = raw if end < 0 else raw[: end + 2]
    try:
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    except Exception:
        return email.message.Message()


def _header_values(headers: email.message.Message, name: str) -> list[str]:
    try:
        values = headers.get_all(name) or []
        return [clean_text(decode_header_value(str(value))) for value in values]
    except Exception:
        return []


def _candidate_addresses(
    recipients: list[str] | None, parsed: ParsedMail | None, headers: email.message.Message
) -> list[str]:
    """Recipient addresses to route by, lower-case, best first."""
    if recipients is not None:
        found = list(recipients)
    else:
        found = []
        for name in _ROUTING_HEADERS:
            for value in _header_values(headers, name):
                found.extend(address_tokens(value))
        if parsed is not None:
            found += parsed.to_addresses + parsed.cc_addresses
        else:
            for name in ("To", "Cc"):
                for value in _header_values(headers, name):
                    found.extend(address_tokens(value))
    return list(dict.fromkeys(a.strip().strip("<>").lower() for a in found if a.strip()))


def _mailbox(candidates: list[str], brand: Brand | None) -> Mailbox | None:
    """The first candidate that is a mailbox (of ``brand``, when given).

    A brand given without a matching recipient (a provider's webhook, an
    import) uses its oldest mailbox for the acknowledgement settings, if any.
    """
    mailboxes = Mailbox.objects.select_related("brand").filter(address__in=candidates)
    if brand is not None:
        mailboxes = mailboxes.filter(brand=brand)
    by_address = {mailbox.address: mailbox for mailbox in mailboxes}
    for address in candidates:
        if address in by_address:
            return by_address[address]
    if brand is not None:
        return Mailbox.objects.filter(brand=brand).order_by("pk").first()
    return None


def lookup_mailbox(address: str) -> Mailbox | None:
    """The mailbox an SMTP ``RCPT TO`` names, or None (then the listener answers 550)."""
    return Mailbox.objects.select_related("brand").filter(address=address.strip().lower()).first()


def _content_language(headers: email.message.Message) -> str:
    """The primary language the sender's client declared (``Content-Language: fr-FR``)."""
    values = _header_values(headers, "Content-Language")
    match = re.match(r"\s*([A-Za-z]{2,3})\b", values[0]) if values else None
    return match.group(1).lower() if match else ""


# --- Threading -------------------------------------------------------------------------------


def find_thread(brand: Brand, parsed: ParsedMail) -> int | None:
    """The conversation this mail answers, by headers then by subject token.

    ``In-Reply-To``/``References`` are looked up among the Message-IDs of mail
    Comptoir received and sent (``Message.external_id`` on the e-mail channel),
    nearest parent first; then a ``[#id]`` token in the subject. Only a hint:
    ``ingest_message`` uses it only if it is this sender's conversation.
    """
    ids = [parsed.in_reply_to, *reversed(parsed.references)]
    wanted = list(dict.fromkeys(normalise_message_id(mid) for mid in ids if mid))
    wanted = [mid for mid in wanted if mid]
    if wanted:
        known = dict(
            Message.objects.filter(
                brand=brand, channel=Channel.EMAIL, external_id__in=wanted
            ).values_list("external_id", "conversation_id")
        )
        for mid in wanted:
            if mid in known:
                return known[mid]
    token = _SUBJECT_REFERENCE.search(parsed.subject)
    return int(token.group(1)) if token else None


# --- Bounces and quarantine ------------------------------------------------------------------


class UnverifiedBounce(Exception):
    """A bounce that cannot be tied to mail Comptoir sent to the address it names."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bounced_message_ids(parsed: ParsedMail) -> list[str]:
    """Stored forms of the Message-IDs a bounce says bounced, nearest evidence first."""
    claimed = [
        *parsed.auto_submitted.original_message_ids,
        parsed.in_reply_to,
        *reversed(parsed.references),
    ]
    ids = (normalise_message_id(mid) for mid in claimed if mid)
    return list(dict.fromkeys(mid for mid in ids if mid))


def mark_addresses_failing(brand: Brand, auto: AutoSubmission, parsed: ParsedMail) -> list[str]:
    """Mark failing the addresses a *genuine* bounce names; returns those marked.

    Anyone can send a bounce-shaped mail naming any address, and a failing
    address stops every reply to that customer. So a bounce counts only when it
    references the Message-ID of a mail this brand sent by e-mail (returned
    copy, ``References``/``In-Reply-To``, ``X-Original-Message-ID``: these
    ids are random and known only to their recipients), and only for the
    failed addresses of the customers those mails went to. Anything else raises
    ``UnverifiedBounce`` and marks nothing.

    Customers are told nothing; agents see the failing address in the panel
    (an event refreshes it) and replies go elsewhere when they can.
    """
    addresses = []
    for address in auto.failed_recipients:
        try:
            addresses.append(normalise_identity(IdentityKind.EMAIL, address))
        except InvalidIdentity:
            continue
    if not addresses:
        raise UnverifiedBounce("names no failed recipient")
    claimed = bounced_message_ids(parsed)
    if not claimed:
        raise UnverifiedBounce("references no Message-ID")
    sent = Message.objects.filter(
        brand=brand,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        is_internal_note=False,
        external_id__in=claimed,
    )
    customer_ids = set(sent.values_list("conversation__customer_id", flat=True))
    if not customer_ids:
        raise UnverifiedBounce("references no mail this brand sent")
    reason = f"Mail bounced ({auto.reason}, {parsed.external_id})"[:300]
    now = timezone.now()
    with transaction.atomic():
        identities = list(
            Identity.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(
                brand=brand,
                kind=IdentityKind.EMAIL,
                value__in=addresses,
                customer_id__in=customer_ids,
            )
            .order_by("pk")
        )
        if not identities:
            raise UnverifiedBounce("names no recipient of the mail it references")
        for identity in identities:
            identity.failing_since = identity.failing_since or now
            identity.failure_reason = reason
            identity.save(update_fields=["failing_since", "failure_reason"])
            append_event(
                brand,
                kinds.CUSTOMER_IDENTITY_FAILING,
                {
                    "customer_id": identity.customer_id,
                    "kind": identity.kind,
                    "value": identity.value,
                    "reason": reason,
                },
                actor=SYSTEM,
                customer=identity.customer,
            )
    marked = list(dict.fromkeys(identity.value for identity in identities))
    ignored = [address for address in addresses if address not in marked]
    logger.info(
        "bounce %s: marked %s failing%s",
        parsed.external_id,
        ", ".join(marked),
        f"; ignored {', '.join(ignored)} (not a recipient of the mail it references)"
        if ignored
        else "",
    )
    return marked


def quarantine_mail(
    raw: bytes,
    *,
    brand: Brand | None,
    source: str,
    reason: str,
    envelope_sender: str = "",
    recipients: list[str] | None = None,
    existing: QuarantinedMail | None = None,
    header_block: bytes | None = None,
    size: int | None = None,
) -> QuarantinedMail:
    """Keep ``raw`` with the reason (or update ``existing`` after a failed retry).

    ``header_block`` and ``size`` describe a mail that was not downloaded (too
    large, IMAP): then ``raw`` is empty and they fill the list's columns.
    """
    logger.warning(
        "mail quarantined (brand %s, %s): %s", brand.slug if brand else "-", source, reason
    )
    if existing is not None:
        existing.reason = reason[:500]
        existing.attempts += 1
        existing.save(update_fields=["reason", "attempts"])
        return existing
    headers = _headers(raw if header_block is None else header_block)
    return QuarantinedMail.objects.create(
        brand=brand,
        source=source,
        # Card numbers masked like in every stored text (the rest kept as received).
        raw=mask_raw_mail(raw),
        size=len(raw) if size is None else size,
        reason=reason[:500],
        envelope_sender=clean_text(envelope_sender)[:320],
        envelope_recipients=clean_data(list(recipients or [])[:100]),
        # Shown in the list: masked like every stored text.
        header_from=mask_card_numbers(" ".join(_header_values(headers, "From")[:1]))[:320],
        header_subject=mask_card_numbers(" ".join(_header_values(headers, "Subject")[:1]))[:300],
    )
