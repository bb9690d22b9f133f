"""Store what a verified webhook carried: messages by ``ingest_message``, statuses in the outbox.

Every message is stored on its own (its own transaction, inside
``ingest_message``): one that cannot be stored is skipped with the reason
and the others still are. A database that is unavailable stops the batch
(``TRANSIENT_ERRORS``); a message that failed for another unexpected reason
is counted in ``failed``. Either way the webhook answers 503 and Meta delivers
the batch again — the messages already stored are then duplicates, a no-op —
so no message is acknowledged without being stored. Items that can never be
stored (a malformed item, a sender id that is no identity) are skipped for good.
"""

import contextlib
import logging
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from comptoir.conversations.attachment_policy import attachment_allowed
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Conversation, Message
from comptoir.customers.identities import InvalidIdentity
from comptoir.customers.models import IdentityKind
from comptoir.outbox.actions import record_provider_status
from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.tenancy.models import Brand
from comptoir.touchpoints.messaging import quick_replies
from comptoir.touchpoints.messaging.graph import MediaTooLarge, download, graph_client
from comptoir.touchpoints.messaging.models import MessagingAccount, MessagingRoute, Provider
from comptoir.touchpoints.messaging.payloads import (
    MediaRef,
    ParsedMessage,
    ParsedWatermark,
    SkippedItem,
    WebhookBatch,
)
from comptoir.touchpoints.messaging.providers import MessagingProvider

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)

DEFAULT_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "video/mp4": ".mp4",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
}


@dataclass
class BatchOutcome:
    received: int = 0
    duplicates: int = 0
    statuses: int = 0
    skipped: list[SkippedItem] = field(default_factory=list)
    # Messages not stored for an unexpected reason: the webhook answers 503 so that
    # Meta delivers the batch again (what was stored is then a duplicate, a no-op).
    failed: int = 0

    def as_json(self) -> dict:
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "statuses": self.statuses,
            "skipped": [{"where": s.where, "reason": s.reason} for s in self.skipped],
        }


# What a webhook reads of the brand's active accounts and of the brand (``Model.from_db``
# builds them in model order; the other fields stay deferred). Checked against the models
# by tests/test_ingest_sql_columns.py.
ACCOUNT_COLUMNS = (
    "id",
    "brand_id",
    "provider",
    "external_id",
    "display_name",
    "access_token",
    "app_secret",
    "verify_token",
    "api_base_url",
)
BRAND_COLUMNS = ("id", "name", "slug", "default_language", "default_region")
_BRAND_START = len(ACCOUNT_COLUMNS)

_ACCOUNTS = f"""
SELECT {", ".join(f"a.{column}" for column in ACCOUNT_COLUMNS)},
       {", ".join(f"b.{column}" for column in BRAND_COLUMNS)}
  FROM messaging_messagingaccount a
  JOIN tenancy_brand b ON b.id = a.brand_id
 WHERE b.slug = %s AND a.provider = %s AND a.is_active
 ORDER BY a.id
"""  # noqa: S608 (built from the column tuples above, never from input)

_ROUTE_UNCHANGED = """
SELECT 1 FROM messaging_messagingroute
 WHERE conversation_id = %s AND provider = %s AND account_id = %s AND recipient_id = %s
"""


def webhook_accounts(brand_slug: str, provider: str) -> list[MessagingAccount]:
    """The brand's active accounts on ``provider``, each with its brand: one query per webhook.

    Written as SQL: through the ORM (``select_related``) it cost about 1 ms of
    Python per webhook, more than the statement (``bench/http_ingest.py``).
    """
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS, [brand_slug, provider])
        rows = cursor.fetchall()
    accounts = []
    for row in rows:
        account = MessagingAccount.from_db(connection.alias, ACCOUNT_COLUMNS, row[:_BRAND_START])
        account.brand = Brand.from_db(connection.alias, BRAND_COLUMNS, row[_BRAND_START:])
        accounts.append(account)
    return accounts


def receive_batch(
    provider: MessagingProvider, accounts: list[MessagingAccount], batch: WebhookBatch
) -> BatchOutcome:
    """Store a parsed webhook for ``accounts`` (those whose app secret signed it)."""
    outcome = BatchOutcome(skipped=list(batch.skipped))
    for skipped in batch.skipped:
        logger.warning(
            "%s webhook: skipped %s: %s", provider.channel, skipped.where, skipped.reason
        )
    by_id = {account.external_id: account for account in accounts}
    # Only media need the Graph API: most webhooks carry text alone.
    needs_graph = any(parsed.media for parsed in batch.messages)
    with graph_client() if needs_graph else contextlib.nullcontext() as client:
        for index, parsed in enumerate(batch.messages):
            account = by_id.get(parsed.account_id)
            if account is None:
                _skip(outcome, provider, f"messages[{index}]", _unknown_account(parsed.account_id))
                continue
            try:
                created = receive_message(provider, client, account, parsed)
            except TRANSIENT_ERRORS:
                raise
            except InvalidIdentity as error:
                _skip(outcome, provider, parsed.external_id, f"sender {parsed.sender_id}: {error}")
                continue
            except Exception as error:
                logger.exception("%s message %s not stored", provider.channel, parsed.external_id)
                _skip(outcome, provider, parsed.external_id, f"{type(error).__name__}: {error}")
                outcome.failed += 1
                continue
            if created:
                outcome.received += 1
            else:
                outcome.duplicates += 1
    for status in batch.statuses:
        account = by_id.get(status.account_id)
        if account is None:
            _skip(outcome, provider, status.provider_id, _unknown_account(status.account_id))
            continue
        record_provider_status(
            account.brand_id,
            provider.channel,
            status.provider_id,
            status.status,
            error=status.error,
        )
        outcome.statuses += 1
    for watermark in batch.watermarks:
        account = by_id.get(watermark.account_id)
        if account is None:
            _skip(outcome, provider, "watermark", _unknown_account(watermark.account_id))
            continue
        outcome.statuses += apply_watermark(account, watermark)
    return outcome


def _unknown_account(account_id: str) -> str:
    return f"account {account_id} is not connected to this brand"


def _skip(outcome: BatchOutcome, provider: MessagingProvider, where: str, reason: str) -> None:
    logger.warning("%s webhook: skipped %s: %s", provider.channel, where, reason)
    outcome.skipped.append(SkippedItem(where, reason))


def identity_claims(channel: str, sender_id: str) -> list[IdentityClaim]:
    """Who sent a message, strongest claim first.

    The WhatsApp id and the Messenger PSID are verified: Meta signed the
    webhook that says this account wrote. The WhatsApp id is also a phone
    number, claimed so that the person who calls from it or typed it in the
    widget is recognised — but *unverified*: a WhatsApp id is not always the
    dialable number (Brazil's ninth digit, Mexico's ``521``), numbers are
    recycled while WhatsApp accounts outlive them, and Comptoir never proved
    that number itself. Matching on it still joins the customer who holds it;
    it only never outweighs an identity that was proved.
    """
    if channel == Provider.WHATSAPP:
        return [
            IdentityClaim(IdentityKind.WHATSAPP, sender_id, verified=True),
            IdentityClaim(IdentityKind.PHONE, f"+{sender_id.lstrip('+')}", verified=False),
        ]
    return [IdentityClaim(IdentityKind.MESSENGER, sender_id, verified=True)]


def receive_message(
    provider: MessagingProvider,
    client: httpx.Client | None,
    account: MessagingAccount,
    parsed: ParsedMessage,
) -> bool:
    """Store one message (media fetched first, outside any transaction); False if a duplicate.

    ``client`` may be None when ``parsed`` has no media.
    """
    brand = account.brand
    if parsed.reply_id and quick_replies.take(
        brand, provider.channel, parsed.sender_id, parsed.reply_id
    ):
        return True
    if parsed.media:
        already = Message.objects.filter(
            brand=brand, channel=provider.channel, external_id=parsed.external_id
        ).exists()
        if already:
            return False  # a redelivery: do not download its media again
    # Text alone: ingest_message recognises a redelivery by its external id.
    attachments, notes = [], []
    for ref in parsed.media:
        attachment, note = fetch_media(provider, client, account, ref)
        if attachment is not None:
            attachments.append(attachment)
        if note:
            notes.append(note)
    text = "\n".join(part for part in (parsed.text, *notes) if part)
    result = ingest_message(
        InboundMessage(
            brand=brand,
            channel=provider.channel,
            external_id=parsed.external_id,
            text=text,
            identities=identity_claims(provider.channel, parsed.sender_id),
            attachments=attachments,
            display_name=parsed.display_name,
            received_at=parsed.received_at,
        )
    )
    remember_route(
        account, result.message.conversation, parsed.sender_id, new=result.conversation_created
    )
    return result.created


def remember_route(
    account: MessagingAccount, conversation: Conversation, recipient_id: str, *, new: bool = False
) -> None:
    """Where replies to ``conversation`` go on this provider: this account, to this sender.

    Read first and written only when it changed: nearly every message follows
    the same route as the one before it, and a write costs a commit of its own
    (so ``updated_at`` is when the route last changed). A ``new`` conversation has
    no route yet: nothing to read.
    """
    if not new:
        with connection.cursor() as cursor:
            cursor.execute(
                _ROUTE_UNCHANGED, [conversation.pk, account.provider, account.pk, recipient_id]
            )
            if cursor.fetchone() is not None:
                return
    MessagingRoute.objects.update_or_create(
        conversation=conversation,
        provider=account.provider,
        defaults={"brand_id": account.brand_id, "account": account, "recipient_id": recipient_id},
    )


def fetch_media(
    provider: MessagingProvider, client: httpx.Client, account: MessagingAccount, ref: MediaRef
) -> tuple[InboundAttachment | None, str]:
    """Download one attachment; on any failure, no attachment and a note saying so.

    The customer's text is never lost for an attachment: the note tells the
    agent to ask for the file again.
    """
    filename = ref.filename or ref.kind
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    where = ref.media_id or ref.url
    try:
        url, headers = provider.media_url(client, account, ref)
        content, content_type = download(client, url, headers=headers, max_bytes=max_bytes)
    except MediaTooLarge as error:
        logger.warning("%s media %s refused: %s", provider.channel, where, error)
        return None, _media_note(account, filename, gettext_lazy("the file is too large"))
    except (httpx.HTTPError, ValueError) as error:
        logger.warning("%s media %s not fetched: %s", provider.channel, where, error)
        return None, _media_note(account, filename, gettext_lazy("the download failed"))
    content_type = ref.content_type.split(";")[0].strip().lower() or content_type
    if "." not in filename:
        filename += DEFAULT_EXTENSIONS.get(content_type, "")
    if not attachment_allowed(filename, content_type, content):
        logger.info("%s media %s refused: type %s", provider.channel, where, content_type)
        return None, _media_note(
            account, filename, gettext_lazy("this type of file is not accepted")
        )
    return InboundAttachment(filename, content_type, content), ""


def _media_note(account: MessagingAccount, filename: str, reason: str) -> str:
    """The line added to the message text, in the brand's language (agents read it)."""
    with translation.override(account.brand.default_language or None):
        return gettext("[Attachment “%(name)s” could not be received: %(reason)s]") % {
            "name": filename,
            "reason": str(reason),
        }


def apply_watermark(account: MessagingAccount, watermark: ParsedWatermark) -> int:
    """Messenger's "everything before this moment was delivered/read", applied to our deliveries."""
    below = [DeliveryStatus.SENT]
    if watermark.status == DeliveryStatus.READ:
        below.append(DeliveryStatus.DELIVERED)
    provider_ids = list(
        Delivery.objects.filter(
            brand_id=account.brand_id,
            channel=account.provider,
            status__in=below,
            sent_at__lte=watermark.watermark,
            message__conversation__messaging_routes__provider=account.provider,
            message__conversation__messaging_routes__recipient_id=watermark.recipient_id,
        )
        .exclude(provider_id="")
        .order_by("-sent_at")
        .values_list("provider_id", flat=True)[:200]
    )
    for provider_id in provider_ids:
        record_provider_status(account.brand_id, account.provider, provider_id, watermark.status)
    return len(provider_ids)
