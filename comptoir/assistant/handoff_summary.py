"""How an assistant handoff reads to agents: the summary note and the lines of the summary card.

The stored summary (``ConversationState.summary``) keeps codes: the reason,
where the conversation was routed, what was tried. These functions turn them
into text in the active language, so each agent reads the card in their own.
"""

from typing import Any

from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

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


DETAIL_LABELS = {
    "order_number": gettext_lazy("Order number"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
}


def intent_line(summary: dict[str, Any]) -> str:
    """What the customer wants, and how sure the assistant was, in words (no raw scores)."""
    name = summary.get("intent_label") or summary.get("intent")
    if not name:
        return _("not recognised")
    confidence = float(summary.get("confidence") or 0)
    if confidence >= 0.8:
        sureness = _("sure")
    elif confidence >= 0.5:
        sureness = _("fairly sure")
    else:
        sureness = _("unsure")
    return _("%(intent)s (%(sureness)s)") % {"intent": name, "sureness": sureness}


def sentiment_line(summary: dict[str, Any]) -> str:
    """The customer's mood in a word: upset, negative, neutral or positive."""
    score = float(summary.get("sentiment") or 0)
    if summary.get("angry"):
        return _("upset")
    if score <= -0.3:
        return _("negative")
    if score >= 0.3:
        return _("positive")
    return _("neutral")


def language_line(code: str) -> str:
    """The customer's language by its name in the reader's language ("French", "français")."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code or "—"


def detail_label(key: str) -> str:
    """A detail's label: a known field's translated name, else the key made readable."""
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def summary_text(summary: dict[str, Any]) -> str:
    """The handoff summary as an internal note (the card shows the same, laid out).

    Rendered in the active language: the console renders the stored summary again
    for each reader (``assistant_console.assistant_handoff``); the stored note's text,
    in the brand's language, is what the API and exports read.
    """
    lines = [
        _("Assistant handoff: %(reason)s") % {"reason": handoff_reason(summary["reason"])},
        _("Intent: %(intent)s") % {"intent": intent_line(summary)},
        _("Language: %(language)s, mood: %(sentiment)s")
        % {
            "language": language_line(summary.get("language", "")),
            "sentiment": sentiment_line(summary),
        },
    ]
    if summary.get("vip"):
        lines.append(_("VIP customer."))
    if summary.get("routed_to"):
        lines.append(_("Routed to: %(where)s") % {"where": routed_to_line(summary["routed_to"])})
    for key, value in (summary.get("details") or {}).items():
        lines.append(_("%(label)s: %(value)s") % {"label": detail_label(key), "value": value})
    for entry in summary.get("history") or []:
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
