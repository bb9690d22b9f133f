"""The assistant's pieces of the console: the handoff summary card at the top of a thread,
and its handoff note, both in the reading agent's language."""

from typing import Any

from django import template

from comptoir.assistant.handoff_summary import (
    detail_label,
    handoff_reason,
    history_line,
    intent_line,
    language_line,
    routed_to_line,
    sentiment_line,
    summary_text,
)
from comptoir.assistant.models import ConversationState
from comptoir.conversations.models import AuthorKind

register = template.Library()


@register.simple_tag
def assistant_handoff(conversation, timeline=None) -> dict[str, Any] | None:
    """What the assistant learnt before handing off, so the agent never asks again.

    Rendered from the stored summary in the active language: the card, and the
    text of the handoff note (``note_id``), which the timeline shows instead of the
    note's stored text (written in the brand's language). A handoff always leaves a
    bot note in the timeline: without one there is no summary, and the page pays
    no query for it.
    """
    if timeline is not None and not any(
        getattr(entry, "message", None) is not None
        and entry.message.author_kind == AuthorKind.BOT
        and entry.message.is_internal_note
        for entry in timeline
    ):
        return None
    summary = (
        ConversationState.objects.filter(conversation=conversation, summary__isnull=False)
        .values_list("summary", flat=True)
        .first()
    )
    if not summary:
        return None
    return {
        "summary": summary,
        "reason": handoff_reason(summary.get("reason", "")),
        "intent": intent_line(summary),
        "language": language_line(summary.get("language", "")),
        "sentiment": sentiment_line(summary),
        "details": [
            (detail_label(key), value)
            for key, value in sorted((summary.get("details") or {}).items())
        ],
        "history": [history_line(entry) for entry in summary.get("history") or []],
        "routed_to": routed_to_line(summary["routed_to"]) if summary.get("routed_to") else "",
        "note_id": summary.get("note_id"),
        "note_text": summary_text(summary),
    }
