"""Which SLA policy applies to a conversation: the most specific match wins.

A policy matches when each criterion it sets (team, priority, channel) equals
the conversation's; an empty criterion matches anything. Among the matches,
the one setting more criteria wins; at equal count, a team match beats a
priority match, which beats a channel match (the team is who answers, the
priority what the customer was promised, the channel how fast it usually
goes); at a full tie the oldest policy wins.
"""

from comptoir.conversations.models import Conversation
from comptoir.sla.models import SlaPolicy


def specificity(policy: SlaPolicy) -> tuple[int, int, int, int]:
    criteria = (policy.team_id is not None, policy.priority is not None, bool(policy.channel))
    return (sum(criteria), *criteria)


def matches(policy: SlaPolicy, conversation: Conversation) -> bool:
    return (
        (policy.team_id is None or policy.team_id == conversation.team_id)
        and (policy.priority is None or policy.priority == conversation.priority)
        and (not policy.channel or policy.channel == conversation.channel)
    )


def policy_for(conversation: Conversation) -> SlaPolicy | None:
    """The brand's most specific policy matching ``conversation`` (one query), or None."""
    policies = SlaPolicy.objects.filter(brand_id=conversation.brand_id).select_related("calendar")
    candidates = [policy for policy in policies if matches(policy, conversation)]
    if not candidates:
        return None
    return max(candidates, key=lambda policy: (specificity(policy), -policy.pk))
