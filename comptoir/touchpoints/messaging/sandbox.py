"""A stand-in for Meta's Graph API, for the demo: takes replies, prints them, reports them read.

``comptoir messaging_sandbox`` runs it. Sends to ``/<id>/messages``
(WhatsApp) and ``/me/messages`` (Messenger) are answered with a fresh message
id and printed. With ``status_webhook`` set, it then posts signed WhatsApp
``delivered`` and ``read`` statuses back to Comptoir, so the ✓✓ appear in the
console as with the real service. Not for tests of Comptoir's own code: those
use their own recording server.
"""

import json
import logging
import threading
import urllib.request
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from comptoir.touchpoints.messaging.signatures import signature_for

logger = logging.getLogger(__name__)


def status_payload(phone_number_id: str, wamid: str, recipient: str, status: str) -> dict:
    """A WhatsApp webhook body reporting ``status`` of ``wamid``."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": phone_number_id},
        "statuses": [{"id": wamid, "status": status, "recipient_id": recipient}],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "sandbox", "changes": [{"field": "messages", "value": value}]}],
    }


def post_signed(url: str, payload: dict, app_secret: str) -> int:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 (a URL the operator gave)
        url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature_for(body, app_secret),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status


def make_server(
    port: int,
    *,
    echo: Callable[[str], None],
    status_webhook: str = "",
    app_secret: str = "",
    delays: tuple[float, float] = (1.0, 3.0),
) -> ThreadingHTTPServer:
    """The sandbox server on 127.0.0.1:``port`` (0: any free port), not yet serving."""

    def report(phone_number_id: str, wamid: str, recipient: str) -> None:
        for status, delay in zip(("delivered", "read"), delays, strict=True):
            threading.Event().wait(delay)
            try:
                post_signed(
                    status_webhook,
                    status_payload(phone_number_id, wamid, recipient, status),
                    app_secret,
                )
            except OSError as error:
                echo(f"could not report {status} of {wamid}: {error}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._answer(400, {"error": {"message": "body is not JSON", "code": 100}})
            path = self.path.split("?", 1)[0].rstrip("/")
            if path.endswith("/me/messages"):
                recipient = str(body.get("recipient", {}).get("id", ""))
                text = str(body.get("message", {}).get("text", ""))
                mid = f"m_sandbox_{uuid.uuid4().hex}"
                echo(f"Messenger → {recipient} [{mid}]: {text}")
                return self._answer(200, {"recipient_id": recipient, "message_id": mid})
            if path.endswith("/messages"):
                phone_number_id = path.rsplit("/", 2)[-2]
                recipient = str(body.get("to", ""))
                text = str(body.get("text", {}).get("body", ""))
                wamid = f"wamid.sandbox.{uuid.uuid4().hex}"
                echo(f"WhatsApp {phone_number_id} → +{recipient} [{wamid}]: {text}")
                if status_webhook:
                    threading.Thread(
                        target=report, args=(phone_number_id, wamid, recipient), daemon=True
                    ).start()
                return self._answer(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": recipient, "wa_id": recipient}],
                        "messages": [{"id": wamid}],
                    },
                )
            return self._answer(404, {"error": {"message": f"unknown path {path}", "code": 100}})

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug(format, *args)

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
