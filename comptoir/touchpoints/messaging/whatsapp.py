"""The WhatsApp Cloud API: webhook payloads in, media and messages through the Graph API.

Webhook shape (``object: whatsapp_business_account``)::

    entry[].changes[].value = {
      metadata: {phone_number_id}, contacts: [{wa_id, profile: {name}}],
      messages: [{id: wamid, from: wa_id, timestamp, type, text|image|document|…}],
      statuses: [{id: wamid, status: sent|delivered|read|failed, errors: […]}],
    }
"""

from typing import Any

import httpx

from comptoir.touchpoints.messaging.graph import graph_error, json_body, post_json
from comptoir.touchpoints.messaging.models import MessagingAccount, Provider
from comptoir.touchpoints.messaging.payloads import (
    MalformedPayload,
    MediaRef,
    ParsedMessage,
    ParsedStatus,
    SkippedItem,
    WebhookBatch,
    as_dict,
    as_list,
    as_text,
    choices_fit,
    from_timestamp,
)

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")
# WhatsApp refuses text bodies longer than this: longer replies go in several messages.
MAX_TEXT = 4096
# An interactive list message: its body, the button that opens it, its rows and their titles.
MAX_LIST_BODY, MAX_LIST_BUTTON, MAX_LIST_ROWS, MAX_ROW_TITLE = 1024, 20, 10, 24


class WhatsAppProvider:
    """WhatsApp Cloud API (Graph API), one ``MessagingAccount`` per business phone number."""

    channel = Provider.WHATSAPP
    webhook_object = "whatsapp_business_account"
    max_text = MAX_TEXT

    def parse_webhook(self, payload: dict) -> WebhookBatch:
        batch = WebhookBatch()
        for e, entry in enumerate(as_list(payload.get("entry"), "entry")):
            try:
                changes = as_list(as_dict(entry, f"entry[{e}]").get("changes"), f"entry[{e}]")
            except MalformedPayload as error:
                batch.skipped.append(SkippedItem(f"entry[{e}]", str(error)))
                continue
            for c, change in enumerate(changes):
                where = f"entry[{e}].changes[{c}].value"
                try:
                    value = as_dict(as_dict(change, where).get("value"), where)
                    metadata = as_dict(value.get("metadata"), f"{where}.metadata")
                    account_id = as_text(metadata.get("phone_number_id"), f"{where}.metadata")
                except MalformedPayload as error:
                    batch.skipped.append(SkippedItem(where, str(error)))
                    continue
                names = _contact_names(value.get("contacts"))
                for m, raw in enumerate(as_list(value.get("messages"), f"{where}.messages")):
                    item = f"{where}.messages[{m}]"
                    try:
                        batch.messages.append(_message(account_id, raw, names, item))
                    except MalformedPayload as error:
                        batch.skipped.append(SkippedItem(item, str(error)))
                for s, raw in enumerate(as_list(value.get("statuses"), f"{where}.statuses")):
                    item = f"{where}.statuses[{s}]"
                    try:
                        status = _status(account_id, raw, item)
                    except MalformedPayload as error:
                        batch.skipped.append(SkippedItem(item, str(error)))
                        continue
                    if status is not None:
                        batch.statuses.append(status)
        return batch

    def media_url(
        self, client: httpx.Client, account: MessagingAccount, ref: MediaRef
    ) -> tuple[str, dict[str, str]]:
        """WhatsApp hands out a media id: ask the Graph API for its (short-lived) URL."""
        headers = {"Authorization": f"Bearer {account.access_token}"}
        response = client.get(f"{account.api_base_url.rstrip('/')}/{ref.media_id}", headers=headers)
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"media {ref.media_id}: {graph_error(response)}",
                request=response.request,
                response=response,
            )
        url = json_body(response).get("url")
        if not isinstance(url, str) or not url:
            raise ValueError(f"media {ref.media_id}: the Graph API gave no URL")
        return url, headers

    def send_text(
        self, client: httpx.Client, account: MessagingAccount, recipient_id: str, text: str
    ) -> str:
        return self._send(
            client, account, recipient_id, "text", {"preview_url": False, "body": text}
        )

    def _send(
        self,
        client: httpx.Client,
        account: MessagingAccount,
        recipient_id: str,
        kind: str,
        content: dict,
    ) -> str:
        response = post_json(
            client,
            f"{account.api_base_url.rstrip('/')}/{account.external_id}/messages",
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": recipient_id,
                "type": kind,
                kind: content,
            },
            headers={"Authorization": f"Bearer {account.access_token}"},
        )
        messages = response.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            wamid = messages[0].get("id")
            if isinstance(wamid, str) and wamid:
                return wamid
        raise ValueError("the Graph API accepted the message but returned no id")

    def send_choices(
        self,
        client: httpx.Client,
        account: MessagingAccount,
        recipient_id: str,
        text: str,
        quick_replies: dict,
    ) -> str | None:
        limits = {"text_max": MAX_LIST_BODY, "count_max": MAX_LIST_ROWS, "title_max": MAX_ROW_TITLE}
        if not choices_fit(text, quick_replies, **limits):
            return None
        choices = quick_replies["choices"]
        interactive = {
            "type": "list",
            "body": {"text": text},
            "action": {
                "button": quick_replies["label"][:MAX_LIST_BUTTON],
                "sections": [{"rows": [{"id": c["id"], "title": c["title"]} for c in choices]}],
            },
        }
        return self._send(client, account, recipient_id, "interactive", interactive)


def _contact_names(contacts: Any) -> dict[str, str]:
    names = {}
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        wa_id = contact.get("wa_id")
        if isinstance(wa_id, str) and isinstance(name, str):
            names[wa_id] = name
    return names


def _message(account_id: str, raw: Any, names: dict[str, str], where: str) -> ParsedMessage:
    raw = as_dict(raw, where)
    wamid = as_text(raw.get("id"), f"{where}.id")
    sender = as_text(raw.get("from"), f"{where}.from")
    kind = as_text(raw.get("type"), f"{where}.type", required=False) or "text"
    text, media = _content(kind, raw, where)
    return ParsedMessage(
        account_id=account_id,
        external_id=wamid,
        sender_id=sender,
        text=text,
        display_name=names.get(sender, ""),
        media=media,
        received_at=from_timestamp(raw.get("timestamp")),
        reply_id=_reply_id(kind, raw, where),
    )


def _reply_id(kind: str, raw: dict, where: str) -> str:
    """The id of the list row or reply button the customer tapped (``interactive``)."""
    if kind != "interactive":
        return ""
    interactive = as_dict(raw.get("interactive"), f"{where}.interactive")
    for key in ("button_reply", "list_reply"):
        if isinstance(interactive.get(key), dict):
            return as_text(interactive[key].get("id"), f"{where}.interactive.{key}.id")
    return ""


def _content(kind: str, raw: dict, where: str) -> tuple[str, tuple[MediaRef, ...]]:
    """The text and media of one message, by its ``type``."""
    if kind == "text":
        body = as_dict(raw.get("text"), f"{where}.text")
        return as_text(body.get("body"), f"{where}.text.body"), ()
    if kind in MEDIA_TYPES:
        part = as_dict(raw.get(kind), f"{where}.{kind}")
        ref = MediaRef(
            kind=kind,
            media_id=as_text(part.get("id"), f"{where}.{kind}.id"),
            content_type=as_text(part.get("mime_type"), "", required=False),
            filename=as_text(part.get("filename"), "", required=False),
        )
        caption = as_text(part.get("caption"), "", required=False)
        return caption, (ref,)
    if kind == "location":
        place = as_dict(raw.get("location"), f"{where}.location")
        try:
            latitude, longitude = float(place["latitude"]), float(place["longitude"])
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedPayload(f"{where}.location: no coordinates") from error
        label = " — ".join(
            as_text(place.get(key), "", required=False)
            for key in ("name", "address")
            if place.get(key)
        )
        link = f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}"
        return "\n".join(line for line in (f"📍 {label}".strip(), link) if line), ()
    if kind == "interactive":
        # The customer tapped a reply button or a list row the brand sent.
        interactive = as_dict(raw.get("interactive"), f"{where}.interactive")
        for key in ("button_reply", "list_reply"):
            if isinstance(interactive.get(key), dict):
                return as_text(interactive[key].get("title"), f"{where}.interactive.{key}"), ()
        raise MalformedPayload(f"{where}.interactive: no button or list reply")
    if kind == "button":
        button = as_dict(raw.get("button"), f"{where}.button")
        return as_text(button.get("text") or button.get("payload"), f"{where}.button.text"), ()
    if kind == "reaction":
        reaction = as_dict(raw.get("reaction"), f"{where}.reaction")
        emoji = as_text(reaction.get("emoji"), "", required=False)
        if not emoji:
            raise MalformedPayload(f"{where}.reaction: a removed reaction is not a message")
        return emoji, ()
    # contacts, order, system, unsupported…: stored so the agent knows something came.
    return f"[WhatsApp: {kind} message]", ()


def _status(account_id: str, raw: Any, where: str) -> ParsedStatus | None:
    raw = as_dict(raw, where)
    status = as_text(raw.get("status"), f"{where}.status")
    if status not in STATUSES:
        return None  # "deleted", "warning"…: nothing the outbox tracks
    error = ""
    errors = raw.get("errors")
    if status == "failed" and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        details = (
            first.get("error_data", {}).get("details")
            if isinstance(first.get("error_data"), dict)
            else None
        )
        error = " — ".join(
            str(part)
            for part in (first.get("code"), first.get("title") or first.get("message"), details)
            if part
        )
    return ParsedStatus(account_id, as_text(raw.get("id"), f"{where}.id"), status, error)
