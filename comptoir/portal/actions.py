"""The portal's state changes: codes asked and proved, accounts, links, sessions, requests.

Each runs in one transaction. What the person changes in a brand's customer file
goes through that brand's own actions: their messages through
``conversations.ingest`` (the portal is one more channel adapter), their consents
through ``customers.actions.record_consent``, the identity a code proves through
``customers.resolution`` (a verified claim, by the rules every channel follows).
Links and unlinks are audited (``security.audit``) in the linked brand's log,
naming no other brand.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import IngestResult, ingest_message
from comptoir.conversations.models import Channel, Conversation
from comptoir.customers.actions import record_consent
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import Consent, Customer, Identity, IdentityKind
from comptoir.customers.resolution import IdentityChanged, resolve_customer
from comptoir.portal import codes
from comptoir.portal.models import (
    CodePurpose,
    PortalAccount,
    PortalLink,
    PortalSession,
    SignInCode,
)
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.models import Brand

# A reply to a conversation resolved less than this long ago reopens it; later, a new
# conversation follows it (as a late e-mail reply does).
REOPEN_WINDOW = timedelta(days=7)
MAX_TEXT_LENGTH = 5000


class PortalError(ValueError):
    """Refused; ``reason`` is shown to the person as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_address(brand: Brand, raw: str) -> tuple[str, str]:
    """(kind, normalised value) of what the person typed: an e-mail address or a phone number.

    Codes leave by e-mail only: Comptoir has no text-message sender yet, so a phone
    number is refused with the same words whoever holds it.
    """
    raw = raw.strip()
    if "@" in raw:
        try:
            return IdentityKind.EMAIL, normalise_identity(IdentityKind.EMAIL, raw)
        except InvalidIdentity:
            raise PortalError(_("This is not a valid e-mail address.")) from None
    try:
        normalise_identity(IdentityKind.PHONE, raw, region=brand.default_region)
    except InvalidIdentity:
        raise PortalError(_("Enter an e-mail address or a phone number.")) from None
    raise PortalError(
        _("We cannot send codes by text message yet: please enter your e-mail address.")
    )


def request_code(
    brand: Brand,
    purpose: str,
    kind: str,
    value: str,
    *,
    language: str,
    account: PortalAccount | None = None,
) -> SignInCode:
    """A pending code for ``kind:value``; its mail (code and link) is made and sent by a task.

    The same for an address the brand knows and one it does not: nothing here tells
    who is a customer. The secrets are drawn by the task itself, so that they never
    sit in the job queue's arguments.
    """
    from comptoir.portal.tasks import send_code

    now = timezone.now()
    with transaction.atomic():
        code = SignInCode.objects.create(
            brand=brand,
            purpose=purpose,
            kind=kind,
            value=value,
            account=account,
            code_hash="",
            link_hash=codes.secret_hash(codes.new_secret()),
            language=language[:8],
            created_at=now,
            expires_at=now + codes.CODE_LIFETIME,
        )
        send_code.enqueue(code_id=code.pk)
    return code


def _usable(code: SignInCode | None) -> SignInCode:
    if (
        code is None
        or code.used_at is not None
        or code.expires_at <= timezone.now()
        or code.attempts >= codes.MAX_ATTEMPTS
        or not code.code_hash
    ):
        raise PortalError(_("This code has expired or was already used: ask for a new one."))
    return code


@dataclass(frozen=True)
class Proof:
    """A code proved: its row (purpose, brand, identity) and the customer it proves."""

    code: SignInCode
    customer: Customer


def prove_with_code(code_id: int, typed: str) -> Proof:
    """Check a typed code; a wrong one counts against the code's attempts."""
    typed = "".join(ch for ch in typed if ch.isdigit())
    with transaction.atomic():
        code = _usable(SignInCode.objects.select_for_update().filter(pk=code_id).first())
        if codes.code_matches(code.pk, typed, code.code_hash):
            return _use(code)
        # Counted in its own committed transaction: the refusal below must not undo it.
        code.attempts += 1
        code.save(update_fields=["attempts"])
    left = codes.MAX_ATTEMPTS - code.attempts
    if left <= 0:
        raise PortalError(_("Too many wrong codes: ask for a new one."))
    raise PortalError(_("Wrong code. Attempts left: %(left)d.") % {"left": left})


def prove_with_link(token: str) -> Proof:
    """Check the secret of a mailed link (one use, same lifetime as the code)."""
    with transaction.atomic():
        code = _usable(
            SignInCode.objects.select_for_update()
            .filter(link_hash=codes.secret_hash(token))
            .first()
        )
        return _use(code)


def code_for_link(token: str) -> SignInCode | None:
    """The pending code a mailed link names (to show its page), or None."""
    return SignInCode.objects.filter(link_hash=codes.secret_hash(token)).first()


def _use(code: SignInCode) -> Proof:
    """Mark the code used and prove its identity in the brand: a verified claim.

    By ``customers.resolution``'s rules, an address someone else only typed
    goes to a customer of its own (the two proposed as duplicates to an agent):
    a code proves control of the address, not that the typist was its owner.
    """
    if (
        code.purpose == CodePurpose.LINK
        and not Identity.objects.filter(
            brand_id=code.brand_id, kind=code.kind, value=code.value
        ).exists()
    ):
        raise PortalError(_("This brand has no profile with this address."))
    code.used_at = timezone.now()
    code.save(update_fields=["used_at"])
    claims = [IdentityClaim(code.kind, code.value, verified=True)]
    try:
        with transaction.atomic():
            customer = resolve_customer(code.brand, claims, language=code.language)
    except (IntegrityError, IdentityChanged):
        # A concurrent message created or changed this identity first: once more.
        customer = resolve_customer(code.brand, claims, language=code.language)
    return Proof(code, customer)


def sign_in(proof: Proof) -> tuple[PortalAccount, str]:
    """The account holding a live link of the proved identity (or a new one); a session key.

    Returns the account and the session's secret key (for the cookie; only its
    hash is stored).
    """
    code = proof.code
    if code.purpose != CodePurpose.SIGN_IN:
        raise PortalError(_("This code was sent to link a brand, not to sign in."))
    now = timezone.now()
    with transaction.atomic():
        link = (
            PortalLink.objects.select_related("account")
            .filter(brand_id=code.brand_id, kind=code.kind, value=code.value, ended_at=None)
            .first()
        )
        if link is None:
            account = PortalAccount.objects.create()
            link = PortalLink.objects.create(
                account=account,
                brand_id=code.brand_id,
                kind=code.kind,
                value=code.value,
                consented_at=now,
                created_at=now,
            )
            _audit_link(AuditAction.PORTAL_LINKED, link)
        account = link.account
        key = codes.new_secret()
        PortalSession.objects.create(
            account=account,
            key_hash=codes.secret_hash(key),
            created_at=now,
            expires_at=now + codes.SESSION_LIFETIME,
        )
        audit.record(
            AuditAction.PORTAL_SIGNED_IN,
            username=f"portal:{account.pk}",
            brand_id=code.brand_id,
            target=proof.customer,
        )
    return account, key


def link_brand(proof: Proof, account: PortalAccount, *, consented: bool) -> PortalLink:
    """Show the proved brand's file in ``account``: only with the person's consent for it.

    The identity must be one the brand holds (checked when the code is used). A live
    link of the same identity in another account moves here (ended there, audited).
    """
    code = proof.code
    if code.purpose != CodePurpose.LINK or code.account_id != account.pk:
        raise PortalError(_("This code was not sent to link a brand to this account."))
    if not consented:
        raise PortalError(_("Tick the box to agree to link this brand."))
    now = timezone.now()
    with transaction.atomic():
        existing = (
            PortalLink.objects.select_for_update()
            .filter(brand_id=code.brand_id, kind=code.kind, value=code.value, ended_at=None)
            .first()
        )
        if existing is not None:
            if existing.account_id == account.pk:
                return existing
            _end(existing, now)
        link = PortalLink.objects.create(
            account=account,
            brand_id=code.brand_id,
            kind=code.kind,
            value=code.value,
            consented_at=now,
            created_at=now,
        )
        _audit_link(AuditAction.PORTAL_LINKED, link)
    return link


def unlink_brand(account: PortalAccount, brand: Brand) -> int:
    """End every live link of ``brand`` in the account, at once; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        links = list(
            PortalLink.objects.select_for_update().filter(
                account=account, brand=brand, ended_at=None
            )
        )
        for link in links:
            _end(link, now)
        # Signed in through that brand only: nothing is left to show.
        if links and not PortalLink.objects.filter(account=account, ended_at=None).exists():
            PortalSession.objects.filter(account=account).delete()
    return len(links)


def _end(link: PortalLink, now) -> None:
    link.ended_at = now
    link.save(update_fields=["ended_at"])
    _audit_link(AuditAction.PORTAL_UNLINKED, link)


def _audit_link(action: str, link: PortalLink) -> None:
    """In the linked brand's audit log: the account and the kind of identity, no other brand."""
    audit.record(
        action,
        username=f"portal:{link.account_id}",
        brand_id=link.brand_id,
        target_type="portallink",
        target_id=link.pk,
        account=link.account_id,
        kind=link.kind,
    )


def sign_out(key: str) -> None:
    PortalSession.objects.filter(key_hash=codes.secret_hash(key)).delete()


def write_message(
    link: PortalLink,
    text: str,
    *,
    client_id: str,
    conversation: Conversation | None = None,
    attachments: list[InboundAttachment] | None = None,
) -> IngestResult:
    """The person's message, ingested like any channel's (web chat: replies come back here).

    ``client_id`` (a UUID the form carries) makes a resubmitted form a no-op.
    ``attachments`` passed the widget's upload guard (types, names, first bytes, size).
    ``conversation`` is a thread hint: ingest honours it for this customer's own
    conversation only; without one, the message joins the open conversation or opens one.
    """
    text = text.strip()
    if not text and not attachments:
        raise PortalError(_("Write a message first."))
    if len(text) > MAX_TEXT_LENGTH:
        raise PortalError(_("This message is too long."))
    try:
        client_id = uuid.UUID(client_id).hex
    except ValueError:
        client_id = uuid.uuid4().hex
    return ingest_message(
        InboundMessage(
            brand=link.brand,
            channel=Channel.WEBCHAT,
            external_id=f"portal:{client_id}",
            text=text,
            identities=[IdentityClaim(link.kind, link.value, verified=True)],
            attachments=attachments or [],
            language=translation.get_language() or "",
            thread_conversation_id=conversation.pk if conversation is not None else None,
            reopen_window=REOPEN_WINDOW,
        )
    )


def change_consent(customer: Customer, purpose: str, granted: bool) -> Consent:
    return record_consent(customer, purpose, granted, source="portal")
