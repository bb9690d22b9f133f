"""The assistant's pieces of the console: the handoff summary card at the top of a thread."""

from typing import Any

from django import template
from django.utils.translation import gettext_lazy

from comptoir.assistant.handoff_summary import handoff_reason, history_line, routed_to_line
from comptoir.assistant.models import ConversationState
from comptoir.conversations.models import AuthorKind

register = template.Library()

DETAIL_LABELS = {"order_number": gettext_lazy("Order number")}


@register.inclusion_tag("assistant/_summary.html")
def assistant_summary(conversation, timeline=None) -> dict[str, Any]:
    """What the assistant learnt before handing off, so the agent never asks again.

    A handoff always leaves a bot note in the timeline: without one there is no
    summary, and the page pays no query for the card.
    """
    if timeline is not None and not any(
        getattr(entry, "message", None) is not None
        and entry.message.author_kind == AuthorKind.BOT
        and entry.message.is_internal_note
        for entry in timeline
    ):
        return {"summary": None}
    summary = (
        ConversationState.objects.filter(conversation=conversation, summary__isnull=False)
        .values_list("summary", flat=True)
        .first()
    )
    if not summary:
        return {"summary": None}
    return {
        "summary": summary,
        "reason": handoff_reason(summary.get("reason", "")),
        "details": [
            (DETAIL_LABELS.get(key, key), value)
            for key, value in sorted((summary.get("details") or {}).items())
        ],
        "history": [history_line(entry) for entry in summary.get("history") or []],
        "routed_to": routed_to_line(summary["routed_to"]) if summary.get("routed_to") else "",
    }
