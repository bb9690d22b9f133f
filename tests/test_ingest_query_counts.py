"""How many SQL queries the public ingest endpoints run per message: pinned.

The widget's and the WhatsApp webhook's POSTs are the hottest HTTP paths
(``bench/http_ingest.py``): every query there is paid by every customer
message. ``QUERY_COUNTS`` pins each one, for a visitor or a sender seen for
the first time and for one who writes again (the common case, threaded into
their open conversation), so that a query added there is seen and looked at:
when it is meant, pin the new number. The counts are the same on SQLite and
PostgreSQL.
"""

import json
import uuid
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comptoir.conversations.models import Message
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.messaging.signatures import signature_for

PHONE_NUMBER_ID = "109876543210"
APP_SECRET = "wa-app-secret"

# (what, queries)
QUERY_COUNTS = {
    # + the brand's opening hours for the header (its SLA calendar).
    "widget session, new visitor": 3,
    # + the visitor's unanswered chat surveys, asked again inline (comptoir.surveys), the
    # customer's consent to surveys (customers.consents), the opening hours.
    "widget session, returning visitor": 9,
    "widget message, first of a visitor": 10,
    "widget message, next of a visitor": 7,
    "whatsapp webhook, first of a sender": 16,
    "whatsapp webhook, next of a sender": 8,
}


def counted(send) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return len(captured), response


def widget_message(client: Client, token: str, text: str):
    return client.post(
        "/widget/api/messages",
        {"text": text, "client_id": str(uuid.uuid4())},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def whatsapp_webhook(client: Client, brand, sender: str, text: str):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": "Léa"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": f"wamid.{uuid.uuid4().hex}",
                                    "timestamp": "1700000000",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    return client.post(
        f"/webhooks/whatsapp/{brand.slug}",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature_for(body, APP_SECRET),
    )


def session(client: Client, brand, token: str | None = None):
    body = {"brand": brand.slug} if token is None else {"brand": brand.slug, "token": token}
    return client.post("/widget/api/session", body, content_type="application/json")


def measure_round(client: Client, brand, sender: str) -> dict[str, int]:
    """One visitor and one WhatsApp sender write twice; the visitor comes back."""
    new, started = counted(partial(session, client, brand))
    token = started.json()["token"]
    first, answer = counted(partial(widget_message, client, token, "Bonjour"))
    assert answer.status_code == 201
    following, answer = counted(partial(widget_message, client, token, "Vous êtes là ?"))
    assert answer.status_code == 201
    returning, restored = counted(partial(session, client, brand, token))
    assert len(restored.json()["messages"]) == 2
    first_wa, answer = counted(partial(whatsapp_webhook, client, brand, sender, "Bonjour"))
    assert answer.json()["received"] == 1
    next_wa, answer = counted(partial(whatsapp_webhook, client, brand, sender, "Alors ?"))
    assert answer.json()["received"] == 1
    return {
        "widget session, new visitor": new,
        "widget session, returning visitor": returning,
        "widget message, first of a visitor": first,
        "widget message, next of a visitor": following,
        "whatsapp webhook, first of a sender": first_wa,
        "whatsapp webhook, next of a sender": next_wa,
    }


@pytest.fixture
def measured(brand) -> dict[str, int]:
    """Each path measured in a second round: the first one fills process caches (URLs, texts)."""
    MessagingAccount.objects.create(
        brand=brand,
        provider="whatsapp",
        external_id=PHONE_NUMBER_ID,
        app_secret=APP_SECRET,
        verify_token="verify",
        api_base_url="http://127.0.0.1:9/v21.0",
    )
    client = Client()
    measure_round(client, brand, "33612340001")
    counts = measure_round(client, brand, "33612340002")
    assert Message.objects.filter(brand=brand).count() == 8
    return counts


def test_ingest_query_counts_are_pinned(measured):
    assert measured == QUERY_COUNTS
