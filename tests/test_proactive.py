"""Proactive follow-up on a timer: a check-in to a customer waiting on the company, a reminder
then a closing notice to one the company waits on; skipped when the state changed, once only,
never to a customer who refused contact; the administrators' settings page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.actions import mark_pending, send_reply
from comptoir.conversations.models import AuthorKind, Message, Status
from comptoir.customers.actions import record_consent
from comptoir.customers.models import ConsentPurpose
from comptoir.surveys import proactive
from comptoir.surveys.models import NoticeKind, ProactiveNotice, ProactiveSettings
from comptoir.tasks import run_pending
from tests.factories import ingest_chat, make_agent
from tests.sla_helpers import run_timers
from tests.task_helpers import queued_task_names

START = timezone.make_aware(timezone.datetime(2031, 3, 3, 10, 0))


def at(hours: float):
    return time_machine.travel(START + timedelta(hours=hours), tick=False)


@pytest.fixture
def follow_up(brand):
    return ProactiveSettings.objects.create(
        brand=brand, channels=["webchat"], check_in_hours=2, reminder_hours=24, close_hours=48
    )


def automatic(conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, author_kind=AuthorKind.SYSTEM)
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_a_customer_left_waiting_gets_one_check_in(brand, follow_up):
    with at(0):
        message = ingest_chat(brand, "Ma commande n'est pas arrivée")
        run_pending()
    conversation = message.conversation
    conversation.customer.language = "fr"
    conversation.customer.save(update_fields=["language"])
    assert "comptoir.surveys.tasks.check_in" in queued_task_names()
    assert automatic(conversation) == []  # a delayed job: not yet
    with at(2.1):
        run_timers()
    [check_in] = automatic(conversation)
    # In French, without a time: no SLA policy applies.
    assert check_in.startswith("Nous nous occupons toujours de votre demande et vous répondrons")
    assert ProactiveNotice.objects.get(kind=NoticeKind.CHECK_IN).trigger == message.pk
    # Run again (a retried job): nothing more.
    with at(2.2):
        assert proactive.check_in(conversation.pk, message.pk) is False
    assert len(automatic(conversation)) == 1


def test_no_check_in_once_an_agent_answered_or_for_a_refusal(brand, agent, follow_up):
    with at(0):
        answered = ingest_chat(brand, "Bonjour").conversation
        refused = ingest_chat(brand, "Bonsoir").conversation
        # The customer withdrew the purpose check-ins come under.
        record_consent(refused.customer, ConsentPurpose.SURVEYS, False, source="widget")
        run_pending()
    with at(1):
        send_reply(agent, answered, "Je regarde.")
    with at(3):
        run_timers()  # both jobs run, and find nothing to do
    assert automatic(answered) == []
    assert automatic(refused) == []


def test_a_channel_the_brand_left_out_gets_nothing(brand, follow_up):
    follow_up.channels = ["email"]
    follow_up.save()
    with at(0):
        conversation = ingest_chat(brand, "Bonjour").conversation
        run_pending()
    with at(3):
        run_timers()
    assert automatic(conversation) == []


def test_pending_reminder_then_closing_notice(brand, agent, follow_up):
    with at(0):
        conversation = ingest_chat(brand, "Hello").conversation
        conversation.customer.language = "en"
        conversation.customer.save(update_fields=["language"])
        send_reply(agent, conversation, "Your order number?")
        mark_pending(agent, conversation)
        run_pending()
    assert automatic(conversation) == []
    assert "comptoir.surveys.tasks.pending_reminder" in queued_task_names()
    with at(24.5):
        run_timers()
    [reminder] = automatic(conversation)
    assert reminder.startswith("We are waiting for your reply")  # the customer's English
    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING
    assert "comptoir.surveys.tasks.pending_close" in queued_task_names()
    with at(24.5 + 48.5):
        run_timers()
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    assert len(automatic(conversation)) == 2  # and the closing notice
    kinds = set(ProactiveNotice.objects.values_list("kind", flat=True))
    assert kinds == {NoticeKind.REMINDER, NoticeKind.CLOSING}


def test_a_customer_reply_cancels_the_reminder_and_the_closing(brand, agent, follow_up):
    with at(0):
        message = ingest_chat(brand, "Bonjour")
        conversation = message.conversation
        send_reply(agent, conversation, "Votre numéro ?")
        mark_pending(agent, conversation)
        run_pending()
    with at(24.5):
        run_timers()  # reminded
    assert len(automatic(conversation)) == 1
    with at(30):
        ingest_chat(brand, "MD-10482", visitor_id=_visitor(message))
        run_pending()
    with at(24.5 + 49):
        run_timers()  # the closing job runs, and finds the customer answered
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert not ProactiveNotice.objects.filter(kind=NoticeKind.CLOSING).exists()


def _visitor(message) -> str:
    from comptoir.customers.models import Identity

    return Identity.objects.get(customer=message.conversation.customer, kind="chat_visitor").value


def test_the_settings_page_is_the_administrators(client, brand, admin):
    client.force_login(admin.user)
    url = reverse("surveys:proactive")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "channels": ["webchat", "email"],
            "check_in_hours": 4,
            "reminder_hours": 48,
            "close_hours": 72,
        },
    )
    assert response.status_code == 302
    saved = ProactiveSettings.objects.get(brand=brand)
    assert (saved.channels, saved.check_in_hours, saved.close_hours) == (
        ["webchat", "email"],
        4,
        72,
    )
    agent = make_agent(brand)
    client.force_login(agent.user)
    assert client.get(url).status_code == 403
