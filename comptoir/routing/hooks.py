"""What the router asks other concerns without importing them: SLA risk, opening hours.

The SLA app (``comptoir.sla``, higher in the layers) installs its answers here
when it starts (``install_sla_risk``, ``install_team_open``); until then no
conversation is at risk and every team is open. Both take and return plain ids,
once per decision round, so that a hook costs one query, not one per conversation.
"""

from collections.abc import Callable, Iterable

SlaRisk = Callable[[Iterable[int]], set[int]]
TeamOpen = Callable[[int], bool]


def _nothing_at_risk(conversation_ids: Iterable[int]) -> set[int]:
    return set()


def _always_open(team_id: int) -> bool:
    return True


_sla_risk: SlaRisk = _nothing_at_risk
_team_open: TeamOpen = _always_open


def install_sla_risk(hook: SlaRisk | None) -> None:
    """``hook(conversation_ids)``: those whose SLA is at risk (None: back to "none")."""
    global _sla_risk
    _sla_risk = hook or _nothing_at_risk


def install_team_open(hook: TeamOpen | None) -> None:
    """``hook(team_id)``: whether the team works now (business hours; None: always)."""
    global _team_open
    _team_open = hook or _always_open


def sla_at_risk(conversation_ids: Iterable[int]) -> set[int]:
    return _sla_risk(conversation_ids)


def team_is_open(team_id: int) -> bool:
    return _team_open(team_id)
