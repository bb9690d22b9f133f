"""Data subjects' requests: opened by the customer or an agent, due in a month, fulfilled, audited.

The customer portal (``/me/``), the widget and the console all open requests
through ``request_data_export`` and ``request_erasure``; supervisors fulfil an
export (``fulfil_export``: the archive of ``gdpr.export`` is then downloaded), an
administrator fulfils an erasure (``fulfil_erasure``: ``gdpr.erasure``). Each
change is one transaction with its event (``data_request.*``) and audit entry.
A request holds ids and times only: it stays after the erasure it asked for.
"""

from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from comptoir.customers.models import Customer
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER, Actor
from comptoir.events.log import append_event
from comptoir.gdpr.erasure import erase_customer
from comptoir.gdpr.models import DataRequest, RequestKind, RequestStatus
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role

# Where a request may come from (``DataRequest.source``).
SOURCES = ("console", "widget", "portal", "api")


class DataRequestError(ValueError):
    """The request cannot change this way (already closed, wrong kind); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def due_date(requested_at: datetime) -> datetime:
    """One month after the request (Art. 12(3) GDPR): 31 January → 28/29 February."""
    return requested_at + relativedelta(months=1)


def _payload(data_request: DataRequest) -> dict:
    return {
        "request_id": data_request.pk,
        "customer_id": data_request.customer_id,
        "kind": data_request.kind,
        "status": data_request.status,
        "source": data_request.source,
        "due_at": data_request.due_at.isoformat(),
    }


def _open(
    customer: Customer, kind: str, requested_by: Membership | None, source: str
) -> DataRequest:
    if source not in SOURCES:
        raise ValueError(f"Unknown request source {source!r}.")
    if customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    with transaction.atomic():
        # One open request per kind and person: asking twice is the same request.
        existing = (
            DataRequest.objects.select_for_update()
            .filter(customer=customer, kind=kind, status=RequestStatus.OPEN)
            .first()
        )
        if existing is not None:
            return existing
        now = timezone.now()
        data_request = DataRequest.objects.create(
            brand_id=customer.brand_id,
            customer=customer,
            kind=kind,
            requested_by=requested_by,
            source=source,
            requested_at=now,
            due_at=due_date(now),
        )
        append_event(
            customer.brand_id,
            kinds.DATA_REQUEST_OPENED,
            _payload(data_request),
            actor=Actor.agent_or(requested_by, CUSTOMER),
            customer=customer,
        )
        audit.record(
            AuditAction.DATA_REQUEST_OPENED,
            user=requested_by.user if requested_by is not None else None,
            username="" if requested_by is not None else f"customer:{customer.pk}",
            brand_id=customer.brand_id,
            target=data_request,
            kind=kind,
            source=source,
            customer_id=customer.pk,
        )
    return data_request


def request_data_export(
    customer: Customer, *, requested_by: Membership | None = None, source: str = "portal"
) -> DataRequest:
    """Open (or return the open) export request of ``customer`` (Art. 15 and 20).

    ``requested_by``: the agent who took the request (None: the customer asked
    themselves, on the portal or in the widget); ``source`` one of ``SOURCES``.
    Due one month later; listed for supervisors at ``/console/privacy/requests/``.
    """
    return _open(customer, RequestKind.EXPORT, requested_by, source)


def request_erasure(
    customer: Customer, *, requested_by: Membership | None = None, source: str = "portal"
) -> DataRequest:
    """Open (or return the open) erasure request of ``customer`` (Art. 17).

    Nothing is erased here: an administrator confirms the person and fulfils it
    (``fulfil_erasure``), within the due date.
    """
    return _open(customer, RequestKind.ERASURE, requested_by, source)


def _close(actor: Membership, data_request: DataRequest, status: str) -> DataRequest:
    locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if locked.status != RequestStatus.OPEN:
        raise DataRequestError("This request is already closed.")
    locked.status = status
    locked.fulfilled_at = timezone.now()
    locked.fulfilled_by = actor
    locked.save(update_fields=["status", "fulfilled_at", "fulfilled_by"])
    append_event(
        locked.brand_id,
        kinds.DATA_REQUEST_CLOSED,
        _payload(locked),
        actor=Actor.agent(actor),
        customer=Customer(pk=locked.customer_id),
    )
    audit.record(
        AuditAction.DATA_REQUEST_CLOSED,
        user=actor.user,
        brand_id=locked.brand_id,
        target=locked,
        kind=locked.kind,
        status=status,
        customer_id=locked.customer_id,
    )
    return locked


def fulfil_export(actor: Membership, data_request: DataRequest) -> DataRequest:
    """Mark an export request delivered (a supervisor sent the archive to the person)."""
    check_role(actor, Role.SUPERVISOR, "Only supervisors and administrators fulfil requests.")
    if data_request.kind != RequestKind.EXPORT:
        raise DataRequestError("This is not an export request.")
    with transaction.atomic():
        return _close(actor, data_request, RequestStatus.FULFILLED)


def fulfil_erasure(actor: Membership, data_request: DataRequest) -> DataRequest:
    """Erase the person (``gdpr.erasure``) and close the request, in one transaction."""
    check_role(actor, Role.ADMIN, "Only administrators erase customers.")
    if data_request.kind != RequestKind.ERASURE:
        raise DataRequestError("This is not an erasure request.")
    with transaction.atomic():
        closed = _close(actor, data_request, RequestStatus.FULFILLED)
        erase_customer(actor, Customer.objects.get(pk=data_request.customer_id))
    return closed


def reject_request(actor: Membership, data_request: DataRequest) -> DataRequest:
    """Close a request that will not be honoured (the person could not be confirmed, spam)."""
    check_role(actor, Role.SUPERVISOR, "Only supervisors and administrators reject requests.")
    with transaction.atomic():
        return _close(actor, data_request, RequestStatus.REJECTED)
