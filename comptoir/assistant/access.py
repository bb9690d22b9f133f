"""Permission-checked fetches of intents and knowledge articles (see ``tenancy.access``).

Administrators only by default: they are the assistant's configuration, which
decides what customers are told without a person.
"""

from django.http import Http404

from comptoir.assistant.models import Intent, KnowledgeArticle
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_intent(
    membership: Membership, intent_id: int, *, require_role: str = Role.ADMIN
) -> Intent:
    check_role(membership, require_role)
    try:
        return Intent.objects.select_related("team").get(pk=intent_id, brand_id=membership.brand_id)
    except (Intent.DoesNotExist, ValueError, TypeError):
        raise Http404("No such intent.") from None


def access_article(
    membership: Membership, article_id: int, *, require_role: str = Role.ADMIN
) -> KnowledgeArticle:
    check_role(membership, require_role)
    try:
        return KnowledgeArticle.objects.get(pk=article_id, brand_id=membership.brand_id)
    except (KnowledgeArticle.DoesNotExist, ValueError, TypeError):
        raise Http404("No such article.") from None
