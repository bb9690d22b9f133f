"""The raw SQL of ingest (``conversations/ingest_sql.py``, ``events/log.py``, the widget's
``visitors.authenticate_visitor_and_customer``, the messaging webhooks' account look-up)
names the models' columns.

Ingest writes messages and events with hand-written INSERTs. A column added to
one of those models and forgotten there would fail every inbound message at
run time (a NOT NULL violation), or store NULL where the ORM would have stored
the field's default: these tests fail first, and say where to add it.
"""

import re
from datetime import UTC, datetime

from django.db import models

from comptoir.conversations import ingest_sql
from comptoir.conversations import models as conversations
from comptoir.customers.actions import link_identity
from comptoir.customers.models import Customer, IdentityKind
from comptoir.events import log as event_log
from comptoir.events.actors import ActorKind
from comptoir.events.models import Event
from comptoir.routing.assignment import assign_conversation
from comptoir.tenancy.models import Brand
from comptoir.touchpoints.messaging import receiving
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.widget import visitors
from comptoir.widget.tokens import issue_visitor_token
from tests.factories import ingest_chat


def inserted_columns(model: type[models.Model]) -> list[str]:
    """Every column of the model's table an INSERT must name: all but the generated id."""
    return [
        field.column
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField))
    ]


def attnames_in_model_order(model: type[models.Model], names: tuple[str, ...]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.attname in names]


def test_the_message_insert_names_every_column_of_a_message():
    assert list(ingest_sql.MESSAGE_INSERT_COLUMNS) == inserted_columns(conversations.Message), (
        "Message's columns changed: update MESSAGE_INSERT_COLUMNS and the row "
        "insert_customer_message() builds in comptoir/conversations/ingest_sql.py"
    )


def test_the_event_insert_names_every_column_of_an_event():
    assert list(event_log.EVENT_COLUMNS) == inserted_columns(Event), (
        "Event's columns changed: update EVENT_COLUMNS and the row "
        "insert_event() builds in comptoir/events/log.py"
    )


def test_the_conversation_update_sets_the_columns_it_declares():
    set_clause = ingest_sql._TOUCH_CONVERSATION.split(" SET ")[1].split(" WHERE ")[0]
    assigned = re.findall(r"(\w+) = CASE", set_clause)
    assert assigned == list(ingest_sql.CONVERSATION_TOUCH_COLUMNS)
    columns = {field.column for field in conversations.Conversation._meta.concrete_fields}
    assert set(ingest_sql.CONVERSATION_TOUCH_COLUMNS) <= columns


def test_the_lookup_reads_existing_columns_in_model_order():
    # ``Model.from_db`` fills a partial row in the order of the model's fields.
    assert list(ingest_sql.CUSTOMER_LOOKUP_COLUMNS) == attnames_in_model_order(
        Customer, ingest_sql.CUSTOMER_LOOKUP_COLUMNS
    )
    assert list(ingest_sql.CONVERSATION_LOOKUP_COLUMNS) == attnames_in_model_order(
        conversations.Conversation, ingest_sql.CONVERSATION_LOOKUP_COLUMNS
    )


def test_the_widget_visitor_lookup_reads_existing_columns_in_model_order():
    # comptoir/widget/visitors.py: the brand and the customer of a widget message.
    assert list(visitors.BRAND_COLUMNS) == attnames_in_model_order(Brand, visitors.BRAND_COLUMNS)
    assert list(visitors.CUSTOMER_COLUMNS) == attnames_in_model_order(
        Customer, visitors.CUSTOMER_COLUMNS
    )


def test_the_widget_visitor_lookup_builds_the_brand_customer_and_email_of_the_orm(brand):
    token, visitor = issue_visitor_token(brand.pk)
    known = visitors.authenticate_visitor_and_customer(token)
    assert (known.brand.pk, known.customer, known.email) == (brand.pk, None, None)
    customer = ingest_chat(brand, "Bonjour", visitor_id=visitor.visitor_id).conversation.customer
    link_identity(customer, IdentityKind.EMAIL, "lea@exemple.fr")
    known = visitors.authenticate_visitor_and_customer(token)
    loaded = {column: getattr(known.brand, column) for column in visitors.BRAND_COLUMNS}
    assert loaded == {column: getattr(brand, column) for column in visitors.BRAND_COLUMNS}
    assert known.customer.pk == customer.pk
    assert known.customer.display_name == customer.display_name
    assert known.email == "lea@exemple.fr"


def test_the_webhook_account_lookup_reads_existing_columns_in_model_order():
    # comptoir/touchpoints/messaging/receiving.py: the accounts (and brand) of a webhook.
    assert list(receiving.ACCOUNT_COLUMNS) == attnames_in_model_order(
        MessagingAccount, receiving.ACCOUNT_COLUMNS
    )
    assert list(receiving.BRAND_COLUMNS) == attnames_in_model_order(Brand, receiving.BRAND_COLUMNS)


def test_the_webhook_account_lookup_finds_what_the_orm_finds(brand, other_brand):
    def account(owner, provider, external_id, active=True):
        return MessagingAccount.objects.create(
            brand=owner,
            provider=provider,
            external_id=external_id,
            display_name=f"Compte {external_id}",
            access_token=f"token-{external_id}",
            app_secret=f"secret-{external_id}",
            verify_token=f"verify-{external_id}",
            api_base_url=f"https://graph.example/{external_id}",
            is_active=active,
        )

    wanted = [account(brand, "whatsapp", "1"), account(brand, "whatsapp", "2")]
    account(brand, "whatsapp", "3", active=False)
    account(brand, "messenger", "4")
    account(other_brand, "whatsapp", "5")
    found = receiving.webhook_accounts(brand.slug, "whatsapp")
    assert [a.pk for a in found] == [a.pk for a in wanted]
    for loaded, created in zip(found, wanted, strict=True):
        for column in receiving.ACCOUNT_COLUMNS:
            assert getattr(loaded, column) == getattr(created, column), column
        assert loaded.brand.slug == brand.slug
        assert loaded.brand.default_language == brand.default_language
    assert receiving.webhook_accounts(other_brand.slug, "messenger") == []


def field_values(instance: models.Model) -> dict[str, object]:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def test_a_message_inserted_in_sql_reads_back_field_for_field(brand, agent):
    conversation = ingest_chat(brand, "Bonjour").conversation
    assign_conversation(agent, conversation, agent)
    # Every field differs from its default, so that a value in the wrong column shows.
    message = conversations.Message(
        brand=brand,
        conversation=conversation,
        contact=conversation.contacts.get(),
        direction=conversations.Direction.OUTBOUND,
        author_kind=conversations.AuthorKind.AGENT,
        author=agent,
        text="Texte à relire",
        is_internal_note=True,
        channel=conversations.Channel.EMAIL,
        external_id="sql-columns-1",
        created_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    )
    ingest_sql.insert_customer_message(message)
    assert field_values(conversations.Message.objects.get(pk=message.pk)) == field_values(message)


def test_an_event_inserted_in_sql_reads_back_field_for_field(brand, agent):
    conversation = ingest_chat(brand, "Bonjour").conversation
    event = Event(
        brand=brand,
        kind="sql.columns",
        conversation=conversation,
        customer=conversation.customer,
        actor_kind=ActorKind.AGENT,
        actor=agent,
        payload={"status": conversations.Status.PENDING, "n": 1},
        customer_payload={"shown": True},
        created_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    )
    event_log.insert_event(event)
    assert field_values(Event.objects.get(pk=event.pk)) == field_values(event)
