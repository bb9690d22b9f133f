"""Is a mail's From address its real sender? Read from the receiving MTA's verdict.

SPF, DKIM and DMARC are checked by the MTA that receives the mail from the internet
(Postfix with OpenDMARC, rspamd, a provider's MX…), which writes its verdict in an
``Authentication-Results`` header (RFC 8601) naming itself (its *authserv-id*).
Anyone can write such a header, so only the topmost one whose authserv-id is in
``EMAIL_TRUSTED_AUTHSERV_IDS`` is read (the receiving MTA adds its own on top and
removes forged ones with its id):

- ``dmarc=pass``, or a ``dkim=pass`` whose signing domain is aligned with the From
  domain: authenticated;
- anything else (``dmarc=fail``, no DKIM, no header from a trusted host): not.

Without any trusted host configured, mails count as authenticated unless one of their
``Authentication-Results`` headers says ``dmarc=fail`` (a forged "fail" only hurts
the forger); ``check --deploy`` warns about that set-up (``comptoir.W002``).

An unauthenticated mail from the address of a known customer never joins nor reveals
that customer's file (``receiving``): it opens a conversation of its own, flagged
for an agent to confirm the sender's identity.
"""

import email.message
import re
from dataclasses import dataclass, field

from django.conf import settings

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)\s*=\s*([a-z]+)", re.IGNORECASE)
_PROPERTY = re.compile(r"([a-z0-9_-]+\.[a-z0-9_-]+)\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


@dataclass(frozen=True)
class MethodResult:
    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: list[MethodResult]

    def of(self, method: str) -> list[MethodResult]:
        return [r for r in self.results if r.method == method]


@dataclass(frozen=True)
class SenderAuthentication:
    authenticated: bool
    reason: str


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """One header's value; None when it has no authserv-id."""
    text = value
    while _COMMENT.search(text):
        text = _COMMENT.sub(" ", text)
    head, *parts = [part.strip() for part in text.split(";")]
    tokens = head.split()
    if not tokens:
        return None
    results = []
    for part in parts:
        match = _RESULT.match(part)
        if match is None:
            continue
        properties = {key.lower(): val.lower() for key, val in _PROPERTY.findall(part)}
        results.append(MethodResult(match[1].lower(), match[2].lower(), properties))
    return AuthenticationResults(tokens[0].lower(), results)


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489): the same domain, or one a subdomain of the other."""
    domain, from_domain = domain.lower().strip("."), from_domain.lower().strip(".")
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    ) and "." in domain


def authenticate_sender(headers: email.message.Message, from_address: str) -> SenderAuthentication:
    """Whether the mail's From is authenticated, and why (for the logs and the flag)."""
    parsed = [
        result
        for value in headers.get_all("Authentication-Results") or []
        if (result := parse_authentication_results(str(value))) is not None
    ]
    trusted = {host.lower() for host in settings.EMAIL_TRUSTED_AUTHSERV_IDS}
    if not trusted:
        for header in parsed:
            if any(r.result == "fail" for r in header.of("dmarc")):
                return SenderAuthentication(False, f"dmarc=fail ({header.authserv_id})")
        return SenderAuthentication(True, "no trusted host configured")
    verdict = next((header for header in parsed if header.authserv_id in trusted), None)
    if verdict is None:
        return SenderAuthentication(False, "no Authentication-Results from a trusted host")
    from_domain = from_address.rpartition("@")[2]
    dmarc = verdict.of("dmarc")
    if any(r.result == "pass" for r in dmarc):
        return SenderAuthentication(True, f"dmarc=pass ({verdict.authserv_id})")
    if any(r.result in ("fail", "quarantine", "reject") for r in dmarc):
        return SenderAuthentication(False, f"dmarc={dmarc[0].result} ({verdict.authserv_id})")
    for result in verdict.of("dkim"):
        if result.result == "pass" and aligned(result.properties.get("header.d", ""), from_domain):
            return SenderAuthentication(True, f"dkim=pass aligned ({verdict.authserv_id})")
    return SenderAuthentication(False, f"no aligned pass ({verdict.authserv_id})")
