"""Agent replies and acknowledgements leaving by SMTP: the e-mail sender of the outbox.

``send_email_delivery`` is registered for the ``email`` channel in
``EmailConfig.ready``; the outbox worker calls it outside any transaction and
retries it with backoff when it raises a temporary ``DeliveryError``.

Delivery is at least once (a worker may die after the SMTP server accepted the
mail but before the outcome was recorded), so every attempt of one message
sends the *same* mail: the Message-ID is generated once and stored in
``Message.external_id`` before the first SMTP conversation, and the Date is the
message's creation time. A receiving server or client that sees the mail twice
can then tell it is one mail, and a customer's reply threads back through
``In-Reply-To`` to this message.

Choices made with what is stored today:

* From: the brand's first Mailbox (lowest id). Comptoir does not record which of
  a brand's addresses an inbound mail was sent to, so a brand with several
  mailboxes replies from the first one. A brand without a Mailbox sends from
  ``<brand slug>@DEFAULT_FROM_DOMAIN``.
* To: the customer's e-mail identity that is not failing, verified first, then
  the most recently added (the address they wrote from last, as far as the
  identities tell: the From of each inbound mail is not stored per message).
* References: the Message-IDs of the conversation's earlier e-mails, both
  directions, oldest first, capped to ``MAX_REFERENCES`` (root kept). The
  References header of the inbound mail itself is not stored; the
  conversation's own ids are the same chain as seen by Comptoir.
"""

import logging
import re
import secrets
import smtplib
from email.utils import format_datetime, formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils.html import linebreaks

from comptoir.conversations.models import AuthorKind, Channel, Conversation, Direction, Message
from comptoir.customers.models import Identity, IdentityKind
from comptoir.mail_connection import mail_connection
from comptoir.outbox import failures
from comptoir.outbox.models import Delivery
from comptoir.outbox.senders import DeliveryError
from comptoir.tenancy.models import Brand
from comptoir.touchpoints.email.message_ids import normalise_message_id

logger = logging.getLogger(__name__)

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
# Enough for any client to thread; long chains only grow headers.
MAX_REFERENCES = 20
# Ids inbound parsing made up for mail without a usable Message-ID: not referable.
SYNTHETIC_ID_PREFIXES = ("sha256:", "mid-sha256:")


def send_email_delivery(delivery: Delivery) -> str:
    """Send the delivery's message by SMTP; returns its Message-ID (without ``<>``)."""
    message = (
        Message.objects.select_related("conversation__customer", "brand")
        .prefetch_related("attachments")
        .get(pk=delivery.message_id)
    )
    if message.is_internal_note or message.direction != Direction.OUTBOUND:
        raise DeliveryError("only outbound replies are sent, never notes", permanent=True)
    conversation = message.conversation
    mailbox = message.brand.mailboxes.order_by("pk").first()
    from_address, from_name = sender_address(message.brand, mailbox)
    recipient = recipient_address(conversation)
    message_id = ensure_message_id(message, from_address.rpartition("@")[2])
    mail = build_mail(message, from_address, from_name, recipient, message_id)
    _send(mail, delivery, mailbox.smtp_url if mailbox else "")
    return message_id


def sender_address(brand: Brand, mailbox=None) -> tuple[str, str]:
    """``(address, display name)`` the brand's mail leaves from: its first mailbox's."""
    mailbox = mailbox or brand.mailboxes.order_by("pk").first()
    if mailbox is None:
        return f"{brand.slug}@{settings.DEFAULT_FROM_DOMAIN}", brand.name
    return mailbox.address, mailbox.sender_name or brand.name


def recipient_address(conversation: Conversation) -> str:
    """The customer's working e-mail address; a permanent DeliveryError when there is none."""
    identities = Identity.objects.filter(
        customer_id=conversation.customer_id, kind=IdentityKind.EMAIL
    ).order_by("-verified", "-created_at", "-pk")
    failing = None
    for identity in identities:
        if identity.failing_since is None:
            return identity.value
        failing = failing or identity
    if failing is not None:
        reason = failing.failure_reason or "no reason recorded"
        raise DeliveryError(
            f"the customer's address {failing.value} is failing since "
            f"{failing.failing_since.isoformat()} ({reason})",
            permanent=True,
            code=failures.ADDRESS_FAILING,
        )
    raise DeliveryError(
        "the customer has no e-mail address", permanent=True, code=failures.NO_ADDRESS
    )


def ensure_message_id(message: Message, domain: str) -> str:
    """The message's Message-ID, generated and stored once, before any SMTP attempt.

    A conditional UPDATE stores it, so two workers racing on one message
    (a job run again after its worker was taken for dead) agree on the id the first one stored.
    """
    if message.external_id:
        return message.external_id
    candidate = normalise_message_id(
        f"comptoir.m{message.pk}.{secrets.token_hex(8)}@{domain.lower() or 'comptoir.invalid'}"
    )
    unset = Q(external_id__isnull=True) | Q(external_id="")
    Message.objects.filter(unset, pk=message.pk).update(external_id=candidate)
    message.external_id = Message.objects.values_list("external_id", flat=True).get(pk=message.pk)
    return message.external_id


def thread_ids(message: Message) -> tuple[str, list[str]]:
    """``(In-Reply-To, References)`` of ``message``: the customer's last mail and the chain."""
    earlier = (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            channel=Channel.EMAIL,
            is_internal_note=False,
            external_id__isnull=False,
            # Stored before this message, in arrival order: not by created_at, which
            # for inbound mail is its Date header (skewed clocks, forgeries), and
            # later mail must not change the headers of a retry.
            pk__lt=message.pk,
        )
        .exclude(external_id="")
        .order_by("pk")
        .values_list("direction", "external_id")
    )
    chain = [
        (direction, mid) for direction, mid in earlier if not mid.startswith(SYNTHETIC_ID_PREFIXES)
    ]
    inbound = [mid for direction, mid in chain if direction == Direction.INBOUND]
    references = list(dict.fromkeys(mid for _, mid in chain))
    if len(references) > MAX_REFERENCES:
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
    return (inbound[-1] if inbound else ""), references


def subject_for(conversation: Conversation) -> str:
    """``Re: <subject> [#<id>]``: the token lets a reply thread even without headers."""
    token = f"[#{conversation.pk}]"
    subject = " ".join(conversation.subject.replace(token, " ").split())
    if not subject:
        return " ".join(f"{conversation.brand.name} {token}".split())
    if subject.lower().startswith("re:"):
        return f"{subject} {token}"
    return f"Re: {subject} {token}"


def build_mail(
    message: Message, from_address: str, from_name: str, recipient: str, message_id: str
) -> EmailMultiAlternatives:
    """The mail for ``message``, identical on every attempt (same ids, same date)."""
    conversation = message.conversation
    language = _language_tag(conversation.customer.language, message.brand.default_language)
    in_reply_to, references = thread_ids(message)
    headers = {
        "Message-ID": f"<{message_id}>",
        "Date": format_datetime(message.created_at),
        "Content-Language": language,
    }
    if in_reply_to:
        headers["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        headers["References"] = " ".join(f"<{mid}>" for mid in references)
    if message.author_kind == AuthorKind.SYSTEM:
        # RFC 3834: other robots (out-of-office, our own inbound) must not answer it.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    html = (
        f'<!DOCTYPE html><html lang="{language}"><body>'
        f"{linebreaks(message.text, autoescape=True)}</body></html>"
    )
    mail = EmailMultiAlternatives(
        subject=subject_for(conversation),
        body=message.text,
        from_email=formataddr((" ".join(from_name.split()), from_address)),
        to=[recipient],
        headers=headers,
    )
    mail.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as stream:
            mail.attach(attachment.filename, stream.read(), attachment.content_type or None)
    return mail


def _language_tag(*candidates: str) -> str:
    """The first well-formed language tag (``fr``, ``pt-BR``): it goes into a header."""
    for candidate in candidates:
        if candidate and _LANGUAGE_TAG.fullmatch(candidate):
            return candidate
    return "en"


def _send(mail: EmailMultiAlternatives, delivery: Delivery, smtp_url: str = "") -> None:
    """Hand the mail to the SMTP server (the mailbox's own, if it has one), mapping its answer
    to a DeliveryError."""
    try:
        mail_connection(smtp_url).send_messages([mail])
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
        raise DeliveryError(
            f"recipient refused: {detail}",
            permanent=all(code >= 500 for code in codes),
            code=failures.RECIPIENT_REFUSED,
        ) from error
    except smtplib.SMTPDataError as error:
        # 5xx after DATA: the content was refused (too big, spam): resending it cannot help.
        raise DeliveryError(
            f"message refused: {error.smtp_code} {_text(error.smtp_error)}",
            permanent=error.smtp_code >= 500,
            code=failures.CONTENT_REFUSED,
        ) from error
    except smtplib.SMTPResponseException as error:
        # Sender refused, authentication failed, …: the configuration, fixable; keep trying.
        raise DeliveryError(
            f"SMTP server answered {error.smtp_code} {_text(error.smtp_error)}",
            code=failures.NOT_CONFIGURED,
        ) from error
    except (smtplib.SMTPException, OSError) as error:  # OSError: refused, timeout, DNS
        raise DeliveryError(
            f"SMTP server unreachable ({settings.EMAIL_HOST}:{settings.EMAIL_PORT}): "
            f"{type(error).__name__}: {error}",
            code=failures.PROVIDER_UNREACHABLE,
        ) from error
    logger.info(
        "delivery %s: mail %s handed to SMTP", delivery.pk, mail.extra_headers["Message-ID"]
    )


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
