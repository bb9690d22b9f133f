"""The assistant's handoff note and summary read in each agent's language, without raw
internals (scores, field keys, "?")."""

import pytest
from django.urls import reverse

from comptoir.assistant.handoff_summary import summary_text
from comptoir.assistant.models import ConversationState
from comptoir.conversations.models import AuthorKind, Message
from tests.test_assistant import setup_assistant, write

SUMMARY = {
    "reason": "low_confidence",
    "intent": "",
    "intent_label": "",
    "confidence": 0.61,
    "language": "fr",
    "sentiment": -0.42,
    "angry": False,
    "vip": False,
    "details": {"order_number": "MD-10482"},
    "history": [],
    "last_message": "Bonjour",
    "routed_to": {},
}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Intent: not recognised", "Language: French, mood: negative", "Order number:"]),
        (
            "fr",
            [
                "non reconnue",
                "Langue : Français, humeur : négative",
                "Numéro de commande : MD-10482",
            ],
        ),
    ],
)
def test_the_note_is_in_words_not_internals(language, expected):
    from django.utils import translation

    with translation.override(language):
        text = summary_text(SUMMARY)
    for words in expected:
        assert words in text, text
    for internal in ("0.61", "-0.42", "order_number", "?", "confiance"):
        assert internal not in text


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("en", "The customer asked for a person.", "Le client"),
        ("fr", "Le client a demandé à parler à quelqu\u2019un.", "The customer asked"),
    ],
)
def test_each_agent_reads_the_handoff_note_in_their_language(
    agent_client, brand, language, expected, absent
):
    setup_assistant(brand)
    message = write(brand, "Je veux parler à un conseiller, commande MD-4444")
    note = Message.objects.get(
        conversation_id=message.conversation_id,
        author_kind=AuthorKind.BOT,
        is_internal_note=True,
    )
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["note_id"] == note.pk
    agent_client.post("/i18n/setlang/", {"language": language, "next": "/console/"})
    page = agent_client.get(reverse("console:thread_fragment", args=[message.conversation_id]))
    html = page.content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert expected in timeline
    assert absent not in timeline
