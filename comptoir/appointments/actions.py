"""Everything that changes an appointment: book, reschedule, cancel, check in, call, serve.

Each action runs in one transaction, appends an "appointment.*" event attached
to the customer and to their conversation (so it is in their history), and
holds the location's row lock while it counts places or tickets: two customers
booking the last place of a slot at once are served one after the other, and
the second finds it taken (``BookingError``). Confirmation and reminders are
delayed tasks queued in the same transaction (``appointments.tasks``).
"""

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from comptoir.appointments.models import (
    HOLDING_STATUSES,
    Absence,
    Appointment,
    AppointmentStatus,
    Device,
    Location,
    Outcome,
    Service,
    WorkingHours,
)
from comptoir.appointments.slots import Slot, StaffTime, compute_slots
from comptoir.appointments.texts import appointment_line, local_day
from comptoir.conversations.actions import add_note
from comptoir.conversations.models import AuthorKind, Conversation, Message
from comptoir.customers.models import Customer
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.kinds import EventKind
from comptoir.events.log import append_event
from comptoir.realtime.groups import location_queue_group
from comptoir.realtime.publish import publish_message
from comptoir.routing.models import AgentSkill
from comptoir.sla.calendars import CalendarError, open_intervals
from comptoir.tenancy.models import Membership

# How far ahead a customer may book.
BOOKING_HORIZON = timedelta(days=60)
# Reminders before the appointment: the day before and the hour before.
REMINDERS = (("day_before", timedelta(days=1)), ("hour_before", timedelta(hours=1)))
_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class BookingError(ValueError):
    """The change cannot be made: the slot is full or closed, the booking already moved on."""


def skilled_staff(
    location: Location, service: Service, start: datetime, end: datetime
) -> list[StaffTime] | None:
    """When each staff member of ``location`` who has ``service``'s skills is at work.

    None: the location declares no staff, so places are the service's alone.
    Their weekly hours and their absences overlapping [start, end) are read in
    two queries, whatever the number of staff.
    """
    members = dict(location.resources.values_list("pk", "membership_id"))
    if not members:
        return None
    needed = set(service.skills.values_list("pk", flat=True))
    skilled = set(members)
    if needed:
        has: dict[int, set[int]] = {}
        for membership_id, skill_id in AgentSkill.objects.filter(
            membership_id__in=members.values(), skill_id__in=needed
        ).values_list("membership_id", "skill_id"):
            has.setdefault(membership_id, set()).add(skill_id)
        skilled = {pk for pk, member in members.items() if has.get(member, set()) >= needed}
    weekly: dict[int, dict[int, list]] = {pk: {} for pk in skilled}
    for resource_id, weekday, starts, ends in WorkingHours.objects.filter(
        resource_id__in=skilled
    ).values_list("resource_id", "weekday", "starts", "ends"):
        weekly[resource_id].setdefault(weekday, []).append((starts, ends))
    away: dict[int, list] = {pk: [] for pk in skilled}
    for resource_id, starts_at, ends_at in Absence.objects.filter(
        resource_id__in=skilled, starts_at__lt=end, ends_at__gt=start
    ).values_list("resource_id", "starts_at", "ends_at"):
        away[resource_id].append((starts_at, ends_at))
    return [StaffTime(weekly[pk], away[pk]) for pk in sorted(skilled)]


def _booked(location: Location, service: Service, start: datetime, end: datetime, *, exclude=None):
    rows = Appointment.objects.filter(
        location=location,
        service=service,
        status__in=HOLDING_STATUSES,
        starts_at__lt=end,
        ends_at__gt=start,
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return list(rows.values_list("starts_at", "ends_at"))


def available_slots(
    location: Location,
    service: Service,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    exclude: Appointment | None = None,
) -> list[Slot]:
    """The slots of ``service`` at ``location`` between two instants with a place left."""
    now = now or timezone.now()
    end = min(end, now + BOOKING_HORIZON)
    if end <= start:
        return []
    return compute_slots(
        location.calendar.as_calendar(),
        duration=timedelta(minutes=service.duration_minutes),
        capacity=service.capacity,
        booked=_booked(location, service, start, end, exclude=exclude),
        start=start,
        end=end,
        now=now,
        staff=skilled_staff(location, service, start, end),
    )


def _lock_location(location: Location) -> Location:
    return Location.objects.select_for_update().select_related("calendar").get(pk=location.pk)


def _check_slot(location, service, starts_at: datetime, *, exclude=None) -> datetime:
    """The end of the free slot starting at ``starts_at``; BookingError when there is none."""
    duration = timedelta(minutes=service.duration_minutes)
    for slot in available_slots(
        location, service, starts_at, starts_at + duration, exclude=exclude
    ):
        if slot.starts_at == starts_at:
            return slot.ends_at
    raise BookingError(gettext("This slot is no longer available."))


def appointment_payload(appointment: Appointment, **extra: Any) -> dict[str, Any]:
    return {
        "id": appointment.pk,
        "reference": appointment.reference,
        "location_id": appointment.location_id,
        "service_id": appointment.service_id,
        "customer_id": appointment.customer_id,
        "conversation_id": appointment.conversation_id,
        "device_id": appointment.device_id,
        "status": appointment.status,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "walk_in": appointment.walk_in,
        "ticket": appointment.ticket,
        "served_by_id": appointment.served_by_id,
        "outcome": appointment.outcome,
        **extra,
    }


def _changed(appointment: Appointment, kind: EventKind, actor: Actor, **extra: Any) -> None:
    append_event(
        appointment.brand_id,
        kind,
        appointment_payload(appointment, **extra),
        actor=actor,
        conversation=appointment.conversation,
        customer=appointment.customer,
    )
    # The location's waiting-room pages and lobby screens read their state again
    # (``appointments.consumers``): a nudge after commit, no data.
    group = location_queue_group(appointment.location_id)
    transaction.on_commit(lambda: publish_message(group, {"type": "comptoir.queue_changed"}))


def _timeline_note(appointment: Appointment, actor: Membership | None, text: str) -> None:
    """A line in the customer's conversation: the booking is part of their history."""
    if appointment.conversation is None:
        return
    add_note(actor, appointment.conversation, text, author_kind=_author_kind(actor))


def _author_kind(actor: Membership | None) -> str:
    return AuthorKind.AGENT if actor is not None else AuthorKind.SYSTEM


def _actor(membership: Membership | None, otherwise: Actor) -> Actor:
    return Actor.agent_or(membership, otherwise)


def _new_reference() -> str:
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def latest_conversation(customer: Customer | None) -> Conversation | None:
    """The conversation a booking is attached to: the customer's most recent one."""
    if customer is None:
        return None
    return (
        Conversation.objects.filter(customer=customer).order_by("-last_message_at", "-pk").first()
    )


def device_for(brand_id: int, serial_number: str, customer: Customer | None) -> Device | None:
    """The brand's device with ``serial_number`` (created for ``customer`` when new)."""
    serial_number = serial_number.strip().upper()
    if not serial_number:
        return None
    device, _ = Device.objects.get_or_create(
        brand_id=brand_id, serial_number=serial_number, defaults={"customer": customer}
    )
    if device.customer_id is None and customer is not None:
        device.customer = customer
        device.save(update_fields=["customer"])
    return device


def _in_brand_language(appointment: Appointment):
    customer = appointment.customer
    language = (customer.language if customer else "") or appointment.brand.default_language
    return translation.override(language)


def book_appointment(
    location: Location,
    service: Service,
    starts_at: datetime,
    *,
    customer: Customer,
    booked_by: Membership | None = None,
    actor: Actor | None = None,
    serial_number: str = "",
    problem: str = "",
    request_message: Message | None = None,
) -> Appointment:
    """Book the slot of ``service`` at ``location`` starting at ``starts_at`` for ``customer``.

    ``booked_by``: the agent who booked it (None: the customer, the assistant or
    an integrator, told by ``actor``). ``request_message``: the customer's written
    request, whose photos are the booking's. Raises BookingError when the slot is full,
    closed or past.
    """
    if service.brand_id != location.brand_id or customer.brand_id != location.brand_id:
        raise BookingError("the service, the location and the customer must share a brand")
    with transaction.atomic():
        location = _lock_location(location)
        ends_at = _check_slot(location, service, starts_at)
        appointment = Appointment.objects.create(
            brand_id=location.brand_id,
            location=location,
            service=service,
            customer=customer,
            conversation=latest_conversation(customer),
            device=device_for(location.brand_id, serial_number, customer),
            problem=problem.strip()[:2000],
            request_message=request_message,
            first_name=(customer.display_name.split() or [""])[0][:60],
            reference=_new_reference(),
            starts_at=starts_at,
            ends_at=ends_at,
        )
        _changed(appointment, kinds.APPOINTMENT_BOOKED, actor or _actor(booked_by, SYSTEM))
        with _in_brand_language(appointment):
            _timeline_note(
                appointment,
                booked_by,
                gettext("Appointment booked: %(line)s") % {"line": appointment_line(appointment)},
            )
        _schedule_messages(appointment, "confirmation")
    return appointment


def _schedule_messages(appointment: Appointment, first: str) -> None:
    """Queue the confirmation (or change notice) now and the reminders before the slot."""
    from comptoir.appointments.tasks import send_appointment_message

    at = appointment.starts_at.isoformat()
    send_appointment_message.enqueue(appointment_id=appointment.pk, purpose=first, starts_at=at)
    now = timezone.now()
    for purpose, before in REMINDERS:
        when = appointment.starts_at - before
        if when > now:
            send_appointment_message.enqueue(
                appointment_id=appointment.pk, purpose=purpose, starts_at=at, run_after=when
            )


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("brand", "location", "service", "customer", "conversation")
        .get(pk=appointment.pk)
    )


def reschedule_appointment(
    appointment: Appointment,
    starts_at: datetime,
    *,
    by: Membership | None = None,
    actor: Actor | None = None,
) -> Appointment:
    """Move a booking to another free slot of its service (its old place is freed)."""
    with transaction.atomic():
        _lock_location(appointment.location)
        appointment = _lock(appointment)
        if appointment.status != AppointmentStatus.BOOKED:
            raise BookingError(gettext("Only a booking not yet checked in can be moved."))
        previous = appointment.starts_at
        appointment.ends_at = _check_slot(
            appointment.location, appointment.service, starts_at, exclude=appointment
        )
        appointment.starts_at = starts_at
        appointment.save(update_fields=["starts_at", "ends_at"])
        _changed(
            appointment,
            kinds.APPOINTMENT_RESCHEDULED,
            actor or _actor(by, SYSTEM),
            previous_starts_at=previous.isoformat(),
        )
        with _in_brand_language(appointment):
            _timeline_note(
                appointment,
                by,
                gettext("Appointment moved: %(line)s") % {"line": appointment_line(appointment)},
            )
        _schedule_messages(appointment, "rescheduled")
    return appointment


def cancel_appointment(
    appointment: Appointment, *, by: Membership | None = None, actor: Actor | None = None
) -> Appointment:
    """Cancel a booking not yet checked in: its place is offered again."""
    with transaction.atomic():
        appointment = _lock(appointment)
        if appointment.status != AppointmentStatus.BOOKED:
            raise BookingError(gettext("Only a booking not yet checked in can be cancelled."))
        appointment.status = AppointmentStatus.CANCELLED
        appointment.save(update_fields=["status"])
        _changed(appointment, kinds.APPOINTMENT_CANCELLED, actor or _actor(by, SYSTEM))
        with _in_brand_language(appointment):
            _timeline_note(
                appointment,
                by,
                gettext("Appointment cancelled: %(line)s")
                % {"line": appointment_line(appointment)},
            )
    return appointment


def _next_ticket(location: Location, now: datetime) -> int:
    """The next ticket number of the location's local day (under the location's lock)."""
    zone = location.calendar.as_calendar().zone
    day_start, day_end = local_day(now, zone)
    last = Appointment.objects.filter(
        location=location, checked_in_at__gte=day_start, checked_in_at__lt=day_end
    ).aggregate(last=Max("ticket"))["last"]
    return (last or 0) + 1


def check_in(
    appointment: Appointment, *, by: Membership | None = None, actor: Actor | None = None
) -> Appointment:
    """The customer arrived: a ticket and a place in the location's waiting room.

    Their place counts from their slot's start, or from their arrival when late:
    arriving early does not pass customers already waiting for earlier slots.
    """
    with transaction.atomic():
        location = _lock_location(appointment.location)
        appointment = _lock(appointment)
        if appointment.status != AppointmentStatus.BOOKED:
            raise BookingError(gettext("This booking is not waiting for a check-in."))
        now = timezone.now()
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.checked_in_at = now
        appointment.ticket = _next_ticket(location, now)
        appointment.queued_at = max(now, appointment.starts_at)
        appointment.save(update_fields=["status", "checked_in_at", "ticket", "queued_at"])
        _changed(appointment, kinds.APPOINTMENT_CHECKED_IN, actor or _actor(by, SYSTEM))
    return appointment


def add_walk_in(
    location: Location,
    service: Service,
    *,
    by: Membership,
    first_name: str = "",
    customer: Customer | None = None,
    serial_number: str = "",
    problem: str = "",
) -> Appointment:
    """A customer without a booking joins the waiting room (the same queue), with a ticket."""
    if service.brand_id != location.brand_id:
        raise BookingError("the service and the location must share a brand")
    with transaction.atomic():
        location = _lock_location(location)
        now = timezone.now()
        if not first_name and customer is not None:
            first_name = (customer.display_name.split() or [""])[0]
        appointment = Appointment.objects.create(
            brand_id=location.brand_id,
            location=location,
            service=service,
            customer=customer,
            conversation=latest_conversation(customer),
            device=device_for(location.brand_id, serial_number, customer),
            problem=problem.strip()[:2000],
            first_name=first_name.strip()[:60],
            reference=_new_reference(),
            walk_in=True,
            status=AppointmentStatus.CHECKED_IN,
            starts_at=now,
            ends_at=now + timedelta(minutes=service.duration_minutes),
            checked_in_at=now,
            queued_at=now,
            ticket=_next_ticket(location, now),
        )
        _changed(appointment, kinds.APPOINTMENT_BOOKED, Actor.agent(by))
        _changed(appointment, kinds.APPOINTMENT_CHECKED_IN, Actor.agent(by))
    return appointment


def waiting_queue(location: Location) -> list[Appointment]:
    """Who waits at ``location``, in the order they will be called."""
    return list(
        Appointment.objects.filter(location=location, status=AppointmentStatus.CHECKED_IN)
        .select_related("service", "customer", "served_by__user")
        .order_by("queued_at", "ticket", "pk")
    )


def call_next(location: Location, agent: Membership, *, desk: str = "") -> Appointment | None:
    """Call the first customer of the waiting room to ``agent``'s desk (None: nobody waits).

    A customer transferred to (or resumed for) another staff member waits for them:
    ``served_by`` names who they wait for; empty, anyone may call them.
    """
    with transaction.atomic():
        location = _lock_location(location)
        for waiting in waiting_queue(location):
            if waiting.served_by_id in (None, agent.pk):
                return _call(waiting, agent, desk)
        return None


def call_appointment(appointment: Appointment, agent: Membership, *, desk: str = "") -> Appointment:
    """Call this waiting customer (out of turn: a staff member chose them)."""
    with transaction.atomic():
        _lock_location(appointment.location)
        return _call(appointment, agent, desk)


def _call(appointment: Appointment, agent: Membership, desk: str) -> Appointment:
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.CHECKED_IN:
        raise BookingError(gettext("This customer is not in the waiting room."))
    if not desk:
        desk = (
            appointment.location.resources.filter(membership=agent)
            .values_list("desk", flat=True)
            .first()
            or ""
        )
    appointment.status = AppointmentStatus.CALLED
    appointment.called_at = timezone.now()
    appointment.served_by = agent
    appointment.desk = desk[:40]
    appointment.save(update_fields=["status", "called_at", "served_by", "desk"])
    _changed(appointment, kinds.APPOINTMENT_CALLED, Actor.agent(agent))
    return appointment


def park_appointment(appointment: Appointment, agent: Membership) -> Appointment:
    """Set a customer aside during their visit (waiting for a part, a test result).

    They leave the called state (the desk is free for the next customer) and keep
    their place: ``resume_appointment`` puts them back in line where they were.
    """
    with transaction.atomic():
        _lock_location(appointment.location)
        appointment = _lock(appointment)
        if appointment.status not in (AppointmentStatus.CHECKED_IN, AppointmentStatus.CALLED):
            raise BookingError(gettext("This customer is not in the waiting room."))
        appointment.status = AppointmentStatus.PARKED
        appointment.desk = ""
        appointment.save(update_fields=["status", "desk"])
        _changed(appointment, kinds.APPOINTMENT_PARKED, Actor.agent(agent))
    return appointment


def resume_appointment(appointment: Appointment, agent: Membership) -> Appointment:
    """A customer on hold goes back in line, at their place, for whoever had them."""
    with transaction.atomic():
        _lock_location(appointment.location)
        appointment = _lock(appointment)
        if appointment.status != AppointmentStatus.PARKED:
            raise BookingError(gettext("This customer is not on hold."))
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.save(update_fields=["status"])
        _changed(appointment, kinds.APPOINTMENT_RESUMED, Actor.agent(agent))
    return appointment


def transfer_appointment(
    appointment: Appointment,
    agent: Membership,
    *,
    to: Membership | None = None,
    service: Service | None = None,
) -> Appointment:
    """Pass a customer to another staff member of the location and/or another service.

    They go back in line at the place they had (their ``queued_at``), waiting for
    ``to`` (None: whoever calls next); ``service`` changes what they are there for.
    """
    with transaction.atomic():
        location = _lock_location(appointment.location)
        appointment = _lock(appointment)
        if appointment.status not in (
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.CALLED,
            AppointmentStatus.PARKED,
        ):
            raise BookingError(gettext("This customer is not in the waiting room."))
        if to is not None and not location.resources.filter(membership=to).exists():
            raise BookingError(gettext("Choose a staff member of this location."))
        if service is not None and service.brand_id != appointment.brand_id:
            raise BookingError(gettext("Choose a service."))
        previous_service, previous_staff = appointment.service_id, appointment.served_by_id
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.served_by = to
        appointment.service = service or appointment.service
        appointment.desk = ""
        appointment.called_at = None
        appointment.save(update_fields=["status", "served_by", "service", "desk", "called_at"])
        _changed(
            appointment,
            kinds.APPOINTMENT_TRANSFERRED,
            Actor.agent(agent),
            previous_service_id=previous_service,
            previous_served_by_id=previous_staff,
        )
        with _in_brand_language(appointment):
            text = gettext("Transferred: %(line)s") % {"line": appointment_line(appointment)}
            if to is not None:
                text += " → " + to.display_name
            _timeline_note(appointment, agent, text)
    return appointment


def serve_appointment(
    appointment: Appointment, agent: Membership, *, outcome: str, diagnosis: str = ""
) -> Appointment:
    """The customer was served: the outcome and diagnosis join the device's history."""
    if outcome not in Outcome.values:
        raise BookingError(gettext("Choose an outcome."))
    with transaction.atomic():
        appointment = _lock(appointment)
        if appointment.status not in (
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.CALLED,
            AppointmentStatus.PARKED,
        ):
            raise BookingError(gettext("This customer is not in the waiting room."))
        appointment.status = AppointmentStatus.SERVED
        appointment.served_at = timezone.now()
        appointment.served_by = agent
        appointment.outcome = outcome
        appointment.diagnosis = diagnosis.strip()[:4000]
        appointment.save(update_fields=["status", "served_at", "served_by", "outcome", "diagnosis"])
        _changed(appointment, kinds.APPOINTMENT_SERVED, Actor.agent(agent))
        with _in_brand_language(appointment):
            text = gettext("Appointment served: %(line)s — %(outcome)s") % {
                "line": appointment_line(appointment),
                "outcome": appointment.get_outcome_display(),
            }
            if appointment.diagnosis:
                text += "\n" + appointment.diagnosis
            _timeline_note(appointment, agent, text)
        if outcome == Outcome.OBSERVATION and appointment.conversation is not None:
            _schedule_follow_up(appointment)
    return appointment


# "Kept under observation, we call you tomorrow": the follow-up comes at the location's
# first opening hour a day after the visit.
FOLLOW_UP_AFTER = timedelta(days=1)


def follow_up_time(appointment: Appointment) -> datetime:
    """When the customer whose device is under observation hears back."""
    after = timezone.now() + FOLLOW_UP_AFTER
    try:
        return next(iter(open_intervals(appointment.location.calendar.as_calendar(), after)))[0]
    except CalendarError:
        return after


def _schedule_follow_up(appointment: Appointment) -> None:
    """Tell the customer when they will hear back; at that time, give the case to the agent."""
    from comptoir.appointments.tasks import follow_up_observation, send_observation_notice

    when = follow_up_time(appointment)
    send_observation_notice.enqueue(appointment_id=appointment.pk, follow_up_at=when.isoformat())
    follow_up_observation.enqueue(appointment_id=appointment.pk, run_after=when)


def mark_no_show(appointment: Appointment, agent: Membership) -> Appointment:
    """The customer did not come, or was called and did not answer: recorded, place freed."""
    with transaction.atomic():
        appointment = _lock(appointment)
        if appointment.status not in (
            AppointmentStatus.BOOKED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.CALLED,
            AppointmentStatus.PARKED,
        ):
            raise BookingError(gettext("This booking is already closed."))
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.save(update_fields=["status"])
        _changed(appointment, kinds.APPOINTMENT_NO_SHOW, Actor.agent(agent))
        with _in_brand_language(appointment):
            _timeline_note(
                appointment,
                agent,
                gettext("Did not come to the appointment: %(line)s")
                % {"line": appointment_line(appointment)},
            )
    return appointment
