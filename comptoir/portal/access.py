"""Who is signed in to the portal, and what they may see: only their linked brands' files.

The portal session is its own cookie (``comptoir_portal``, path ``/me/``): a random
key whose hash names a ``PortalSession``. It is not Django's session and never
authenticates a user, so it gives no access to the console or the API, and an
agent's console session gives none to the portal.

Every fetch here starts from the account's live links; another person's
conversation, or a brand the account has not linked, is a 404.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone

from comptoir.conversations.models import Attachment, Conversation
from comptoir.customers.models import Customer, Identity
from comptoir.portal import codes
from comptoir.portal.models import PortalAccount, PortalLink, PortalSession
from comptoir.tenancy.models import Brand

SESSION_COOKIE = "comptoir_portal"
PENDING_COOKIE = "comptoir_portal_code"
COOKIE_PATH = "/me/"


def portal_account(request: HttpRequest) -> PortalAccount | None:
    """The account of the request's portal cookie, if its session is alive."""
    key = request.COOKIES.get(SESSION_COOKIE, "")
    if not key:
        return None
    session = (
        PortalSession.objects.select_related("account")
        .filter(key_hash=codes.secret_hash(key), expires_at__gt=timezone.now())
        .first()
    )
    return session.account if session is not None else None


@dataclass(frozen=True)
class LinkedFile:
    """One linked brand: the link and the customer its identity names (None: none yet)."""

    link: PortalLink
    brand: Brand
    customer: Customer | None


def linked_files(account: PortalAccount) -> list[LinkedFile]:
    """The account's live links with their customers: two queries, whatever the count."""
    links = list(
        PortalLink.objects.select_related("brand")
        .filter(account=account, ended_at=None)
        .order_by("created_at", "pk")
    )
    if not links:
        return []
    condition = Q(pk__in=[])
    for link in links:
        condition |= Q(brand_id=link.brand_id, kind=link.kind, value=link.value)
    owners = {
        (identity.brand_id, identity.kind, identity.value): identity.customer
        for identity in Identity.objects.select_related("customer__advisor__user").filter(condition)
    }
    files, seen = [], set()
    for link in links:
        customer = owners.get((link.brand_id, link.kind, link.value))
        key = (link.brand_id, customer.pk if customer else None)
        if key in seen:  # two proved identities of one customer: one file
            continue
        seen.add(key)
        files.append(LinkedFile(link, link.brand, customer))
    return files


def access_brand_file(account: PortalAccount, brand_slug: str) -> LinkedFile:
    """The account's file at the brand named in the URL; 404 when it has not linked it."""
    for file in linked_files(account):
        if file.brand.slug == brand_slug:
            return file
    raise Http404("No such brand in this portal account.")


def access_portal_conversation(
    account: PortalAccount, conversation_id: int
) -> tuple[Conversation, LinkedFile]:
    """A conversation of one of the account's linked customers; 404 otherwise."""
    files = {f.customer.pk: f for f in linked_files(account) if f.customer is not None}
    conversation = (
        Conversation.objects.select_related("brand", "assignee__user", "customer")
        .filter(pk=conversation_id, customer_id__in=list(files))
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation, files[conversation.customer_id]


def access_portal_attachment(account: PortalAccount, attachment_id: int) -> Attachment:
    """A file of a visible message of one of the account's linked customers; 404 otherwise."""
    customer_ids = [f.customer.pk for f in linked_files(account) if f.customer is not None]
    attachment = Attachment.objects.filter(
        pk=attachment_id,
        message__conversation__customer_id__in=customer_ids,
        message__is_internal_note=False,
    ).first()
    if attachment is None:
        raise Http404("No such file.")
    return attachment
