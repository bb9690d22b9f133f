"""How an assistant handoff reads to agents: the summary note and the lines of the summary card.

The stored summary (``ConversationState.summary``) keeps codes: the reason,
where the conversation was routed, what was tried. These functions turn them
into text in the active language, so each agent reads the card in their own.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from comptoir.routing.assignment import Routing

HANDOFF_REASONS = {
    "asked_for_human": gettext_lazy("The customer asked for a person."),
    "low_confidence": gettext_lazy("The assistant was not sure what the customer wants."),
    "not_automatable": gettext_lazy("This request is handled by a person."),
    "vip": gettext_lazy("VIP customer."),
    "negative_sentiment": gettext_lazy("The customer sounds upset."),
    "failed_twice": gettext_lazy("The assistant failed twice in this conversation."),
    "action_failed": gettext_lazy("The brand system did not answer."),
    "no_answer": gettext_lazy("The assistant had no answer for this request."),
    "cannot_reply": gettext_lazy("The assistant cannot answer on this channel."),
}


def routed_to_line(routed_to: dict[str, str]) -> str:
    """Where the handoff went, as agents read it on the summary card and in the note."""
    kind, name = routed_to.get("kind"), routed_to.get("name", "")
    if kind == Routing.ADVISOR:
        return _("the customer's advisor, %(name)s") % {"name": name}
    if kind == Routing.LAST_AGENT:
        return _("the agent who last handled the customer, %(name)s") % {"name": name}
    if kind == Routing.ALREADY_ASSIGNED:
        return name
    if kind == Routing.TEAM:
        where = _("team %(name)s") % {"name": name}
    elif kind == Routing.TEAM_MEMBER:
        where = _("%(agent)s, team %(team)s (automatic assignment)") % {
            "agent": routed_to.get("agent", ""),
            "team": name,
        }
    else:
        where = _("the unassigned queue")
    if routed_to.get("advisor_away"):
        away = _("(their advisor, %(name)s, is away)") % {"name": routed_to["advisor_away"]}
        where = f"{where} {away}"
    return where


def summary_text(summary: dict[str, Any]) -> str:
    """The handoff summary as an internal note (the card shows the same, laid out)."""
    lines = [
        _("Assistant handoff: %(reason)s") % {"reason": handoff_reason(summary["reason"])},
        _("Intent: %(intent)s (confidence %(confidence)s)")
        % {
            "intent": summary["intent_label"] or summary["intent"] or "?",
            "confidence": summary["confidence"],
        },
        _("Language: %(language)s, sentiment: %(sentiment)s")
        % {"language": summary["language"], "sentiment": summary["sentiment"]},
    ]
    if summary.get("routed_to"):
        lines.append(_("Routed to: %(where)s") % {"where": routed_to_line(summary["routed_to"])})
    for key, value in summary["details"].items():
        lines.append(f"{key}: {value}")
    for entry in summary["history"]:
        lines.append(f"- {history_line(entry)}")
    return "\n".join(lines)


def handoff_reason(reason: str) -> str:
    return str(HANDOFF_REASONS.get(reason, reason))


def history_line(entry: dict[str, Any]) -> str:
    kind = entry.get("kind")
    if kind == "action":
        line = _("Looked up order %(number)s") % {"number": entry.get("order_number", "")}
        if entry.get("error"):
            line += " — " + _("failed: %(error)s") % {"error": entry["error"]}
        elif entry.get("result"):
            line += f" — {entry['result']}"
        return line
    if kind == "rejected":
        return _("Customer said the answer did not help: “%(text)s”") % {"text": entry["text"]}
    return _("Said: “%(text)s”") % {"text": entry.get("text", "")}
