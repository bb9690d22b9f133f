"""Checking in during a conversation, not only after it (issue 13, "Proactive follow-up").

- **Waiting on the company**: a customer message still the conversation's last
  one ``check_in_hours`` later gets a check-in ("we are still on it", with the
  time an answer can be expected by when an SLA policy applies:
  ``sla.expectations``).
- **Waiting on the customer** (pending): a reminder ``reminder_hours`` after it
  became pending, then, ``close_hours`` later, a closing notice and the
  conversation resolved by Comptoir (no survey unless the brand asks for one
  after automatic closings).

Each step is a delayed job (``surveys.tasks``) scheduled by a listener
(``surveys.listeners``) when the state begins; when it runs it checks the state
has not changed since (a reply, a newer message, the conversation reopened or
resolved) and skips otherwise. A
``ProactiveNotice`` row per kind and trigger makes it idempotent. The customer
must not have refused contact (``may_contact``). Messages go on the channel
replies take, in the customer's language (French or English), and are in the
timeline as Comptoir's automatic messages.
"""

from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from comptoir.conversations.actions import (
    reply_channel,
    resolve_conversation,
    send_automatic_message,
)
from comptoir.conversations.models import Conversation, Message, Status
from comptoir.conversations.state import ConversationStateError, lock_conversation
from comptoir.customers import consents
from comptoir.customers.models import ConsentPurpose
from comptoir.events import kinds
from comptoir.events.models import Event
from comptoir.sla.expectations import expected_first_response
from comptoir.sla.models import ConversationSla
from comptoir.surveys.models import NoticeKind, ProactiveNotice, ProactiveSettings
from comptoir.surveys.texts import survey_language


def settings_for(brand_id: int) -> ProactiveSettings | None:
    return ProactiveSettings.objects.filter(brand_id=brand_id).first()


def may_contact(customer_id: int) -> bool:
    """Whether Comptoir may write to this customer unasked: check-ins, reminders, closing notices.

    The ``surveys`` purpose covers them (``customers.models.ConsentPurpose``): allowed
    unless the customer withdrew it.
    """
    return consents.allows(customer_id, ConsentPurpose.SURVEYS)


def _language(conversation: Conversation) -> str:
    return survey_language(conversation.customer.language, conversation.brand.default_language)


def check_in_text(conversation: Conversation, expected_by=None) -> str:
    with translation.override(_language(conversation)):
        if expected_by is not None:
            when = formats.date_format(timezone.localtime(expected_by), "SHORT_DATETIME_FORMAT")
            return gettext(
                "We are still on it: you can expect our answer by %(when)s. — %(brand)s"
            ) % {"when": when, "brand": conversation.brand.name}
        return gettext("We are still on it and will answer you as soon as we can. — %(brand)s") % {
            "brand": conversation.brand.name
        }


def reminder_text(conversation: Conversation) -> str:
    with translation.override(_language(conversation)):
        return gettext(
            "We are waiting for your reply to go on. Without news from you, we will close"
            " this conversation; you can always write to us again. — %(brand)s"
        ) % {"brand": conversation.brand.name}


def closing_text(conversation: Conversation) -> str:
    with translation.override(_language(conversation)):
        return gettext(
            "Without news from you, we are closing this conversation. Write to us any time"
            " and we will pick it up. — %(brand)s"
        ) % {"brand": conversation.brand.name}


def _channel(conversation: Conversation, options: ProactiveSettings) -> str | None:
    """The channel replies take, if the brand checks in on it."""
    try:
        channel = reply_channel(conversation)
    except ConversationStateError:
        return None
    return channel if channel in options.channels else None


def _send(conversation: Conversation, kind: str, trigger: int, text: str, channel: str) -> bool:
    """Record the notice (once per kind and trigger) and send it; whether it was sent."""
    try:
        with transaction.atomic():
            notice = ProactiveNotice.objects.create(
                conversation=conversation, kind=kind, trigger=trigger, created_at=timezone.now()
            )
    except IntegrityError:
        return False
    message = send_automatic_message(conversation, text, channel=channel)
    notice.message_id = message.pk
    notice.save(update_fields=["message_id"])
    return True


def _latest_message_id(conversation: Conversation) -> int | None:
    return (
        Message.objects.filter(conversation=conversation, is_internal_note=False)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def check_in(conversation_id: int, message_id: int) -> bool:
    """The check-in for this customer message, if it is still the last word; whether sent."""
    with transaction.atomic():
        conversation = Conversation.objects.select_related("customer", "brand").filter(
            pk=conversation_id
        )
        conversation = conversation.first()
        if conversation is None:
            return False
        conversation = lock_conversation(conversation)
        options = settings_for(conversation.brand_id)
        if (
            options is None
            or not options.check_in_hours
            or conversation.status != Status.OPEN
            or _latest_message_id(conversation) != message_id
            or not may_contact(conversation.customer_id)
        ):
            return False
        channel = _channel(conversation, options)
        if channel is None:
            return False
        expected_by = None
        if ConversationSla.objects.filter(conversation=conversation, policy__isnull=False).exists():
            expected_by = expected_first_response(
                conversation.brand_id, conversation.team_id, conversation.channel, timezone.now()
            )
        return _send(
            conversation,
            NoticeKind.CHECK_IN,
            message_id,
            check_in_text(conversation, expected_by),
            channel,
        )


def _still_pending_since(conversation: Conversation, event_id: int, since_message: int | None):
    """Pending since that event, no other status since, no message after ``since_message``."""
    if conversation.status != Status.PENDING:
        return False
    changed = (
        Event.objects.filter(
            conversation=conversation, kind=kinds.CONVERSATION_UPDATED.name, pk__gt=event_id
        )
        .exclude(payload__status=Status.PENDING)
        .exists()
    )
    return not changed and _latest_message_id(conversation) == since_message


def _pending_conversation(conversation_id: int) -> Conversation | None:
    conversation = (
        Conversation.objects.select_related("customer", "brand").filter(pk=conversation_id).first()
    )
    return lock_conversation(conversation) if conversation is not None else None


def pending_reminder(conversation_id: int, event_id: int) -> int | None:
    """The reminder of a conversation pending since ``event_id``, if still so.

    Returns the hours after which to close it (0: never), or None when nothing was sent.
    """
    with transaction.atomic():
        conversation = _pending_conversation(conversation_id)
        if conversation is None:
            return None
        options = settings_for(conversation.brand_id)
        event = Event.objects.filter(pk=event_id).values_list("created_at", flat=True).first()
        last_before = (
            Message.objects.filter(
                conversation=conversation, is_internal_note=False, created_at__lte=event
            )
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            if event
            else None
        )
        if (
            options is None
            or not options.reminder_hours
            or not _still_pending_since(conversation, event_id, last_before)
            or not may_contact(conversation.customer_id)
        ):
            return None
        channel = _channel(conversation, options)
        if channel is None:
            return None
        sent = _send(
            conversation, NoticeKind.REMINDER, event_id, reminder_text(conversation), channel
        )
        return options.close_hours if sent else None


def pending_close(conversation_id: int, event_id: int) -> bool:
    """Close a conversation still pending, with nothing said since its reminder."""
    with transaction.atomic():
        conversation = _pending_conversation(conversation_id)
        if conversation is None:
            return False
        options = settings_for(conversation.brand_id)
        reminder = ProactiveNotice.objects.filter(
            conversation=conversation, kind=NoticeKind.REMINDER, trigger=event_id
        ).first()
        if (
            options is None
            or not options.close_hours
            or reminder is None
            or not _still_pending_since(conversation, event_id, reminder.message_id)
        ):
            return False
        channel = _channel(conversation, options)
        if channel is not None and may_contact(conversation.customer_id):
            _send(conversation, NoticeKind.CLOSING, event_id, closing_text(conversation), channel)
        resolve_conversation(None, conversation)
        return True
