"""Permission-checked fetches: the one place that decides what an agent may open."""

from django.http import Http404

from comptoir.conversations.models import Attachment, Conversation
from comptoir.customers.models import Customer
from comptoir.tenancy.models import Membership


def access_conversation(membership: Membership, conversation_id: int) -> Conversation:
    """The conversation if it belongs to the agent's brand; 404 otherwise (no existence leak)."""
    try:
        return Conversation.objects.select_related(
            "customer__advisor__user", "assignee__user", "team"
        ).get(pk=conversation_id, brand_id=membership.brand_id)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such conversation.") from None


def access_customer(membership: Membership, customer_id: int) -> Customer:
    try:
        return Customer.objects.select_related("advisor__user").get(
            pk=customer_id, brand_id=membership.brand_id
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404("No such customer.") from None


def access_attachment(membership: Membership, attachment_id: int) -> Attachment:
    try:
        return Attachment.objects.select_related("message").get(
            pk=attachment_id, brand_id=membership.brand_id
        )
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such attachment.") from None


def access_colleague(membership: Membership, colleague_id: int) -> Membership:
    try:
        return Membership.objects.select_related("user").get(
            pk=colleague_id, brand_id=membership.brand_id, is_active=True
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such agent.") from None
