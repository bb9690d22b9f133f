"""Placing calls from the console: one ``CallProvider`` per telephony service.

``provider_for(line)`` picks the line's provider. The Twilio-compatible one
posts to ``{base_url}/2010-04-01/Accounts/{sid}/Calls.json`` (base URL
configurable per line, so tests run it against a local HTTP server); the
``log`` provider places nothing and records the request (demo and tests).
"""

import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

import httpx

from comptoir.tenancy.models import Membership
from comptoir.touchpoints.phone.models import PhoneLine, Provider

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0


class CallProviderError(Exception):
    """The provider did not accept the call; ``reason`` says why (shown to the agent)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallProvider(Protocol):
    def start_call(self, line: PhoneLine, agent: Membership, to_number: str) -> str:
        """Ask the provider to place the call; returns the provider's call id."""
        ...


def agent_client_identity(agent: Membership) -> str:
    """The softphone identity an agent registers under (``<Client>`` in TwiML)."""
    return f"agent-{agent.pk}"


class TwilioProvider:
    """Twilio's ``Calls`` resource: rings the customer, then connects the agent's softphone."""

    def start_call(self, line: PhoneLine, agent: Membership, to_number: str) -> str:
        if not line.twilio_account_sid or not line.twilio_auth_token:
            raise CallProviderError("the line has no Twilio account SID or auth token")
        url = (
            f"{line.twilio_base_url.rstrip('/')}/2010-04-01/Accounts/"
            f"{line.twilio_account_sid}/Calls.json"
        )
        twiml = (
            "<Response><Dial><Client>"
            f"{escape(agent_client_identity(agent))}"
            "</Client></Dial></Response>"
        )
        data: dict[str, str | list[str]] = {"To": to_number, "From": line.number, "Twiml": twiml}
        if line.status_callback_url:
            data["StatusCallback"] = line.status_callback_url
            data["StatusCallbackEvent"] = ["initiated", "ringing", "answered", "completed"]
        try:
            response = httpx.post(
                url,
                data=data,
                auth=(line.twilio_account_sid, line.twilio_auth_token),
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            logger.warning("Twilio call to %s failed: %s", to_number, exc)
            raise CallProviderError(f"Twilio could not be reached: {exc}") from exc
        if response.status_code >= 400:
            reason = _twilio_error(response)
            logger.warning("Twilio refused the call to %s: %s", to_number, reason)
            raise CallProviderError(f"Twilio refused the call: {reason}")
        try:
            sid = response.json()["sid"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CallProviderError("Twilio answered without a call SID") from exc
        return str(sid)


def _twilio_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{response.status_code} {body.get('message') or body}"
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"


@dataclass(frozen=True)
class LoggedCall:
    line_number: str
    agent_id: int
    to_number: str
    call_id: str


class LogProvider:
    """Places no call: logs and remembers the request (the latest 100), returns a made-up id."""

    def __init__(self) -> None:
        self.requests: deque[LoggedCall] = deque(maxlen=100)
        self._lock = threading.Lock()

    def start_call(self, line: PhoneLine, agent: Membership, to_number: str) -> str:
        call_id = f"log-{uuid.uuid4().hex}"
        with self._lock:
            self.requests.append(LoggedCall(line.number, agent.pk, to_number, call_id))
        logger.info("log provider: %s calls %s from %s (%s)", agent, to_number, line, call_id)
        return call_id


log_provider = LogProvider()
twilio_provider = TwilioProvider()


def provider_for(line: PhoneLine) -> CallProvider:
    if line.provider == Provider.TWILIO:
        return twilio_provider
    return log_provider
