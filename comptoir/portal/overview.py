"""What the portal's pages show, read in a fixed number of queries per linked brand.

Only what the customer may read: messages that are not internal notes, their
advisor's name, statuses, the expected answer (``sla.expectations``), their
bookings (managed on the booking's own signed page), devices, pending surveys
(answered on the survey's signed page) and their consents.
"""

from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from comptoir.appointments.links import manage_path
from comptoir.appointments.models import Appointment, Device
from comptoir.appointments.texts import when_text
from comptoir.conversations.models import AuthorKind, Conversation, Message, Status
from comptoir.conversations.state import OPEN_STATUSES
from comptoir.customers.models import Consent, ConsentPurpose, Customer
from comptoir.gdpr.models import DataRequest, RequestKind
from comptoir.portal.access import LinkedFile
from comptoir.sla.expectations import expected_first_response
from comptoir.surveys.models import Survey, SurveyStatus
from comptoir.surveys.sending import settings_of, survey_link

MAX_CONVERSATIONS = 50


def _visible_messages():
    return Message.objects.filter(is_internal_note=False)


def conversation_rows(customer: Customer, now: datetime) -> list[dict[str, Any]]:
    """The customer's conversations, latest first, each with its last visible message."""
    last = _visible_messages().filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    conversations = (
        Conversation.objects.filter(customer=customer)
        .select_related("assignee__user")
        .annotate(
            last_text=Subquery(last.values("text")[:1]),
            last_author=Subquery(last.values("author_kind")[:1]),
        )
        .order_by("-last_message_at")[:MAX_CONVERSATIONS]
    )
    promises: dict[tuple, datetime | None] = {}
    rows = []
    for conversation in conversations:
        expected = None
        if conversation.status == Status.OPEN and conversation.last_author == AuthorKind.CUSTOMER:
            key = (conversation.brand_id, conversation.team_id, conversation.channel)
            if key not in promises:
                promises[key] = expected_first_response(*key, now)
            expected = promises[key]
        rows.append(
            {
                "conversation": conversation,
                "handler": handler_name(conversation, customer),
                "last_text": (conversation.last_text or "")[:160],
                "waiting_for_us": conversation.last_author == AuthorKind.CUSTOMER,
                "expected": expected,
            }
        )
    return rows


def handler_name(conversation: Conversation, customer: Customer) -> str:
    """Who answers: the agent on it, else the customer's own advisor, else the team."""
    if conversation.assignee is not None:
        return conversation.assignee.display_name
    if customer.advisor is not None:
        return customer.advisor.display_name
    return ""


def appointment_rows(customer: Customer) -> list[dict[str, Any]]:
    appointments = (
        Appointment.objects.filter(customer=customer)
        .select_related("service", "location__calendar", "device")
        .order_by("-starts_at")[:20]
    )
    return [{"appointment": a, "when": when_text(a), "path": manage_path(a)} for a in appointments]


def device_rows(customer: Customer, appointments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Their devices, each with its service history (its visits, served or not)."""
    devices = list(Device.objects.filter(customer=customer).order_by("serial_number"))
    return [
        {
            "device": device,
            "history": [a for a in appointments if a["appointment"].device_id == device.pk],
        }
        for device in devices
    ]


def pending_surveys(customer: Customer) -> list[dict[str, Any]]:
    surveys = list(
        Survey.objects.filter(customer=customer, status=SurveyStatus.SENT)
        .select_related("conversation")
        .order_by("-sent_at")[:10]
    )
    if not surveys:
        return []
    options = settings_of(customer.brand_id)
    return [{"survey": s, "link": survey_link(s, options)} for s in surveys]


def brand_overviews(files: list[LinkedFile], now: datetime) -> list[dict[str, Any]]:
    overviews = []
    for file in files:
        customer = file.customer
        if customer is None:
            overviews.append({"file": file, "conversations": []})
            continue
        appointments = appointment_rows(customer)
        overviews.append(
            {
                "file": file,
                "conversations": conversation_rows(customer, now),
                "appointments": appointments,
                "devices": device_rows(customer, appointments),
                "surveys": pending_surveys(customer),
            }
        )
    return overviews


def open_conversation(customer: Customer | None) -> Conversation | None:
    """The conversation a new message would join (ingest's rule: one open case at a time)."""
    if customer is None:
        return None
    return (
        Conversation.objects.filter(customer=customer, status__in=OPEN_STATUSES)
        .order_by("-last_message_at")
        .first()
    )


def conversation_page(conversation: Conversation, now: datetime) -> dict[str, Any]:
    messages = list(
        _visible_messages()
        .filter(conversation=conversation)
        .select_related("author__user")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    for message in messages:
        message.portal_author = author_label(message)
    rows = [
        row
        for row in conversation_rows(conversation.customer, now)
        if row["conversation"].pk == conversation.pk
    ]
    return {
        "conversation": conversation,
        "brand": conversation.brand,
        "messages": messages,
        "row": rows[0] if rows else None,
    }


def author_label(message: Message) -> str:
    if message.author_kind == AuthorKind.CUSTOMER:
        return _("You")
    if message.author_kind == AuthorKind.AGENT and message.author is not None:
        return message.author.display_name
    if message.author_kind == AuthorKind.BOT:
        return _("Assistant")
    return ""


def latest_consents(customer: Customer) -> dict[str, Consent]:
    """The answer that counts per purpose: the latest recorded."""
    latest: dict[str, Consent] = {}
    for consent in Consent.objects.filter(customer=customer).order_by("recorded_at", "pk"):
        latest[consent.purpose] = consent
    return latest


def data_page(file: LinkedFile) -> dict[str, Any]:
    customer = file.customer
    latest = latest_consents(customer) if customer is not None else {}
    return {
        "brand": file.brand,
        "file": file,
        "purposes": [
            {"value": value, "label": label, "consent": latest.get(value)}
            for value, label in ConsentPurpose.choices
        ],
        "erasure": DataRequest.objects.filter(customer=customer, kind=RequestKind.ERASURE)
        .order_by("-requested_at")
        .first()
        if customer is not None
        else None,
    }
