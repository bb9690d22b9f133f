"""Facebook Messenger (Send API): webhook payloads in, replies out.

Webhook shape (``object: page``)::

    entry[] = {id: page id, messaging: [{
      sender: {id: PSID}, recipient: {id: page id}, timestamp,
      message: {mid, text, attachments: [{type, payload: {url}}], is_echo},
      postback: {mid, title, payload},
      delivery: {mids, watermark}, read: {watermark},
    }]}

Messenger reports deliveries and reads as watermarks: every message sent to
that person before the watermark was delivered (or read).
"""

from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from comptoir.touchpoints.messaging.graph import check_payload_url, post_json
from comptoir.touchpoints.messaging.models import MessagingAccount, Provider
from comptoir.touchpoints.messaging.payloads import (
    MalformedPayload,
    MediaRef,
    ParsedMessage,
    ParsedStatus,
    ParsedWatermark,
    SkippedItem,
    WebhookBatch,
    as_dict,
    as_list,
    as_text,
    choices_fit,
    from_timestamp,
)

MEDIA_TYPES = ("image", "video", "audio", "file")
# Messenger refuses text longer than this: longer replies go in several messages.
MAX_TEXT = 2000
# Quick replies under a message: how many, and the length of each title.
MAX_QUICK_REPLIES, MAX_QUICK_REPLY_TITLE = 13, 20


class MessengerProvider:
    """Messenger Platform, one ``MessagingAccount`` per Facebook page."""

    channel = Provider.MESSENGER
    webhook_object = "page"
    max_text = MAX_TEXT

    def parse_webhook(self, payload: dict) -> WebhookBatch:
        batch = WebhookBatch()
        for e, entry in enumerate(as_list(payload.get("entry"), "entry")):
            try:
                entry = as_dict(entry, f"entry[{e}]")
                page_id = as_text(entry.get("id"), f"entry[{e}].id")
                events = as_list(entry.get("messaging"), f"entry[{e}].messaging")
            except MalformedPayload as error:
                batch.skipped.append(SkippedItem(f"entry[{e}]", str(error)))
                continue
            for m, event in enumerate(events):
                where = f"entry[{e}].messaging[{m}]"
                try:
                    _parse_event(batch, page_id, as_dict(event, where), where)
                except MalformedPayload as error:
                    batch.skipped.append(SkippedItem(where, str(error)))
        return batch

    def media_url(
        self, client: httpx.Client, account: MessagingAccount, ref: MediaRef
    ) -> tuple[str, dict[str, str]]:
        """Messenger gives the attachment's URL in the payload (signed by Meta): no look-up.

        Being the payload's, it is checked before it is fetched (``check_payload_url``).
        """
        check_payload_url(ref.url)
        return ref.url, {}

    def send_text(
        self, client: httpx.Client, account: MessagingAccount, recipient_id: str, text: str
    ) -> str:
        return self._send(client, account, recipient_id, {"text": text})

    def send_choices(
        self,
        client: httpx.Client,
        account: MessagingAccount,
        recipient_id: str,
        text: str,
        quick_replies: dict,
    ) -> str | None:
        limits = {
            "text_max": MAX_TEXT,
            "count_max": MAX_QUICK_REPLIES,
            "title_max": MAX_QUICK_REPLY_TITLE,
        }
        if not choices_fit(text, quick_replies, **limits):
            return None
        quick = [
            {"content_type": "text", "title": c["title"], "payload": c["id"]}
            for c in quick_replies["choices"]
        ]
        return self._send(client, account, recipient_id, {"text": text, "quick_replies": quick})

    def _send(
        self, client: httpx.Client, account: MessagingAccount, recipient_id: str, message: dict
    ) -> str:
        response = post_json(
            client,
            f"{account.api_base_url.rstrip('/')}/me/messages",
            {
                "recipient": {"id": recipient_id},
                "messaging_type": "RESPONSE",
                "message": message,
            },
            headers={"Authorization": f"Bearer {account.access_token}"},
        )
        mid = response.get("message_id")
        if isinstance(mid, str) and mid:
            return mid
        raise ValueError("the Graph API accepted the message but returned no message_id")


def _parse_event(batch: WebhookBatch, page_id: str, event: dict, where: str) -> None:
    sender = as_dict(event.get("sender"), f"{where}.sender")
    sender_id = as_text(sender.get("id"), f"{where}.sender.id")
    received_at = from_timestamp(event.get("timestamp"), milliseconds=True)
    if "message" in event:
        message = as_dict(event["message"], f"{where}.message")
        if message.get("is_echo"):
            return  # the page's own message, sent from Comptoir or from Meta's inbox
        media = tuple(
            _attachment(raw, f"{where}.message.attachments[{a}]")
            for a, raw in enumerate(as_list(message.get("attachments"), f"{where}.message"))
        )
        media = tuple(ref for ref in media if ref is not None)
        text = as_text(message.get("text"), f"{where}.message.text", required=False)
        if not text and not media:
            raise MalformedPayload(f"{where}.message: neither text nor a fetchable attachment")
        batch.messages.append(
            ParsedMessage(
                account_id=page_id,
                external_id=as_text(message.get("mid"), f"{where}.message.mid"),
                sender_id=sender_id,
                text=text,
                media=media,
                received_at=received_at,
                reply_id=_quick_reply_payload(message, where),
            )
        )
    elif "postback" in event:
        # The customer tapped a button the page sent: its title is what they "said".
        postback = as_dict(event["postback"], f"{where}.postback")
        batch.messages.append(
            ParsedMessage(
                account_id=page_id,
                external_id=as_text(postback.get("mid"), f"{where}.postback.mid"),
                sender_id=sender_id,
                text=as_text(
                    postback.get("title") or postback.get("payload"), f"{where}.postback.title"
                ),
                received_at=received_at,
            )
        )
    elif "delivery" in event:
        delivery = as_dict(event["delivery"], f"{where}.delivery")
        mids = [mid for mid in as_list(delivery.get("mids"), where) if isinstance(mid, str)]
        for mid in mids:
            batch.statuses.append(ParsedStatus(page_id, mid, "delivered"))
        watermark = from_timestamp(delivery.get("watermark"), milliseconds=True)
        if watermark is not None:
            batch.watermarks.append(ParsedWatermark(page_id, sender_id, watermark, "delivered"))
        elif not mids:
            raise MalformedPayload(f"{where}.delivery: neither mids nor watermark")
    elif "read" in event:
        read = as_dict(event["read"], f"{where}.read")
        watermark = from_timestamp(read.get("watermark"), milliseconds=True)
        if watermark is None:
            raise MalformedPayload(f"{where}.read: no watermark")
        batch.watermarks.append(ParsedWatermark(page_id, sender_id, watermark, "read"))
    # Other events (reactions, optins, referrals…) are not conversations' business.


def _attachment(raw: Any, where: str) -> MediaRef | None:
    raw = as_dict(raw, where)
    kind = as_text(raw.get("type"), f"{where}.type", required=False)
    payload = raw.get("payload")
    url = payload.get("url") if isinstance(payload, dict) else None
    if kind not in MEDIA_TYPES or not isinstance(url, str) or not url.startswith("http"):
        return None  # a location, a sticker pack template…: nothing to fetch
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])[:200]
    return MediaRef(kind=kind, url=url, filename=filename)


def _quick_reply_payload(message: dict, where: str) -> str:
    quick_reply = message.get("quick_reply")
    if not isinstance(quick_reply, dict):
        return ""
    return as_text(quick_reply.get("payload"), f"{where}.message.quick_reply.payload")
