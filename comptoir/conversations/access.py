"""Permission-checked fetches of conversations and attachments (see ``tenancy.access``)."""

from django.http import Http404

from comptoir.conversations.models import Attachment, Contact, Conversation, Tag
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_conversation(
    membership: Membership, conversation_id: int, *, require_role: str = Role.AGENT
) -> Conversation:
    """The conversation if it belongs to the agent's brand; 404 otherwise (no existence leak)."""
    check_role(membership, require_role)
    try:
        return Conversation.objects.select_related(
            "customer__advisor__user", "assignee__user", "team"
        ).get(pk=conversation_id, brand_id=membership.brand_id)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such conversation.") from None


def access_attachment(
    membership: Membership, attachment_id: int, *, require_role: str = Role.AGENT
) -> Attachment:
    check_role(membership, require_role)
    try:
        return Attachment.objects.select_related("message").get(
            pk=attachment_id, brand_id=membership.brand_id
        )
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such attachment.") from None


def access_contact(
    membership: Membership, contact_id: int, *, require_role: str = Role.AGENT
) -> Contact:
    """A contact (a chat session, a call…) of the agent's brand; 404 otherwise."""
    check_role(membership, require_role)
    try:
        return Contact.objects.get(pk=contact_id, brand_id=membership.brand_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such contact.") from None


def access_tag(membership: Membership, tag_id: int, *, require_role: str = Role.AGENT) -> Tag:
    """A tag of the agent's brand; another brand's is a 404 like a missing one."""
    check_role(membership, require_role)
    try:
        return Tag.objects.get(pk=tag_id, brand_id=membership.brand_id)
    except (Tag.DoesNotExist, ValueError, TypeError):
        raise Http404("No such tag.") from None
