"""Agent assist suggests only what fits the customer's last message, and is ready early."""

import pytest
from django.urls import reverse

from comptoir.assistant import engine
from tests.factories import ingest_chat
from tests.test_assistant import setup_assistant


@pytest.fixture
def assisted(brand):
    setup_assistant(brand)
    engine.warm_up()  # as a server does at start (else the first answer is "loading")
    return brand


def suggestions(client, brand, text: str) -> list[str]:
    message = ingest_chat(brand, text)
    data = client.get(reverse("assistant:assist", args=[message.conversation_id])).json()
    assert data["loading"] is False
    return [suggestion["intent"] for suggestion in data["suggestions"]]


@pytest.mark.parametrize(
    "text",
    [
        "I want to speak to a human",
        "Je veux parler à un conseiller",
        "Est-ce que je peux parler à quelqu'un ?",
        "qwerty zxcv",
    ],
)
def test_no_suggestion_when_nothing_fits(agent_client, assisted, text):
    assert suggestions(agent_client, assisted, text) == []


@pytest.mark.parametrize(
    "text",
    ["What are your opening hours?", "Quels sont vos horaires d'ouverture ?"],
)
def test_a_clear_question_still_gets_its_answer(agent_client, assisted, text):
    found = suggestions(agent_client, assisted, text)
    assert found and found[0] == "opening_hours"


def test_opening_the_console_starts_loading_the_models(agent_client, brand, monkeypatch):
    """The first console page warms the models up, before the first conversation is opened."""
    started = []
    monkeypatch.setattr(engine, "models_ready", lambda: False)
    monkeypatch.setattr(engine, "warm_up_in_background", lambda: started.append(True))
    agent_client.get(reverse("console:inbox"))
    assert started == [True]
