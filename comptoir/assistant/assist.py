"""Agent assist: suggested replies and knowledge-base passages for a conversation's last message."""

from string import Formatter
from typing import Any

from comptoir.assistant import engine
from comptoir.assistant.models import Intent
from comptoir.assistant.retrieval import top_passages
from comptoir.assistant.rules import asks_for_human, extract_order_number, render_template
from comptoir.assistant.scope import LANGUAGES
from comptoir.conversations.models import AuthorKind, Conversation, Direction, Message

# A suggestion under this confidence is more often wrong than right: the agent is better
# served by "no suggestion" than by an unrelated answer to wave away.
SUGGESTION_MIN_CONFIDENCE = 0.35


def _placeholders(template: str) -> set[str]:
    try:
        return {field for _, field, _, _ in Formatter().parse(template) if field}
    except ValueError:
        return set()


def suggestions_for(conversation: Conversation) -> dict[str, Any]:
    """What the agent may want to insert in the reply box, for the last customer message.

    Only intents the classifier is fairly sure of (``SUGGESTION_MIN_CONFIDENCE``,
    never out of scope, never for a request to speak to a person): an empty list
    is an answer ("no suggestion"), better than a wrong one.

    Until this process has loaded its models (``engine.warm_up``: seconds, far
    more on a busy machine), the answer is ``loading`` at once and the load
    starts in the background, if the server did not start it already: the
    console says so and asks again. Waiting for the load here would instead
    hold a server thread and the agent's request with nothing to show, for
    longer than some proxies allow.
    """
    from comptoir.assistant.nlu.language import detect_language

    result: dict[str, Any] = {
        "loading": False,
        "message": "",
        "language": "",
        "suggestions": [],
        "passages": [],
    }
    if not engine.models_ready():
        engine.warm_up_in_background()
        return {**result, "loading": True}
    last = (
        Message.objects.filter(
            conversation=conversation,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            is_internal_note=False,
        )
        .order_by("-pk")
        .values_list("text", flat=True)
        .first()
    )
    if not last or not last.strip():
        return result
    language = detect_language(last)
    if language not in LANGUAGES:
        language = (conversation.brand.default_language or "fr")[:2]
        language = language if language in LANGUAGES else "fr"
    result["message"] = last[:300]
    result["language"] = language
    classifier = engine.classifier_for(conversation.brand_id)
    # Asking for a person is no question to answer: suggesting an intent's answer to it
    # ("Opening an account" for "I want to speak to a human") only misleads.
    if classifier is not None and not asks_for_human(last):
        prediction = classifier.predict(last)
        ranking = [] if prediction.out_of_scope else prediction.ranking[:3]
        ranking = [(n, score) for n, score in ranking if score >= SUGGESTION_MIN_CONFIDENCE]
        names = [name for name, _ in ranking]
        scores = dict(ranking)
        intents = {
            i.name: i for i in Intent.objects.filter(brand_id=conversation.brand_id, name__in=names)
        }
        name = (conversation.customer.display_name or "").split()
        values = {
            "customer_name": name[0] if name else "",
            "order_number": extract_order_number(last) or "",
        }
        for intent_name in names:
            intent = intents.get(intent_name)
            if intent is None or not intent.answer(language).strip():
                continue
            if _placeholders(intent.answer(language)) - set(values):
                continue  # filled by an action's answer (e.g. {status}): nothing to suggest
            result["suggestions"].append(
                {
                    "intent": intent.name,
                    "label": intent.label,
                    "confidence": round(float(scores[intent_name]), 2),
                    "text": render_template(intent.answer(language), values),
                }
            )
    for passage in top_passages(conversation.brand_id, language, last, limit=3):
        result["passages"].append({"title": passage.title, "text": passage.text})
    return result
