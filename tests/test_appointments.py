"""Bookings as actions: places, events, the customer's history, messages, the waiting room."""

import threading
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection, connections

from comptoir.appointments import configure
from comptoir.appointments.actions import (
    BookingError,
    add_walk_in,
    available_slots,
    book_appointment,
    call_next,
    cancel_appointment,
    check_in,
    mark_no_show,
    reschedule_appointment,
    serve_appointment,
)
from comptoir.appointments.configure import add_staff
from comptoir.appointments.customer_views import place_sentence
from comptoir.appointments.links import appointment_for_token, manage_token
from comptoir.appointments.models import Appointment, AppointmentStatus, Device, Outcome, Service
from comptoir.appointments.waiting import place_of, places
from comptoir.conversations.actions import resolve_conversation
from comptoir.conversations.models import AuthorKind, Message
from comptoir.events.models import Event
from comptoir.routing.models import AgentSkill, Skill
from comptoir.tasks import run_pending
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent, make_brand
from tests.sla_helpers import paris
from tests.task_helpers import make_jobs_due

# Friday 6 June 2031, noon in Paris: the shop's next Monday is 9 June.
NOW = paris(2031, 6, 6, 12)
MONDAY_TEN = paris(2031, 6, 9, 10)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def customer_with_chat(brand, text: str = "Mon écran est cassé"):
    return ingest_chat(brand, text).conversation.customer


def kinds_of(appointment: Appointment) -> list[str]:
    return list(
        Event.objects.filter(payload__id=appointment.pk, kind__startswith="appointment.")
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_booking_takes_a_place_and_is_in_the_customers_history(brand, agent):
    location, service = shop(brand), diagnosis(brand)
    customer = customer_with_chat(brand)
    appointment = book_appointment(
        location,
        service,
        MONDAY_TEN,
        customer=customer,
        booked_by=agent,
        serial_number=" f2lx123abc ",
        problem="Écran fissuré",
    )
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at == MONDAY_TEN + timedelta(minutes=30)
    event = Event.objects.get(kind="appointment.booked", payload__id=appointment.pk)
    assert event.customer_id == customer.pk
    assert event.conversation_id == appointment.conversation_id
    assert event.conversation.customer_id == customer.pk
    assert event.actor_id == agent.pk
    note = Message.objects.filter(conversation=appointment.conversation, is_internal_note=True)
    assert note.get().text.startswith("Rendez-vous réservé")  # the brand speaks French
    assert appointment.reference in note.get().text
    device = Device.objects.get(brand=brand, serial_number="F2LX123ABC")
    assert appointment.device == device and device.customer == customer
    starts = {
        slot.starts_at
        for slot in available_slots(location, service, MONDAY_TEN, paris(2031, 6, 9, 11))
    }
    assert MONDAY_TEN not in starts and paris(2031, 6, 9, 10, 30) in starts
    with pytest.raises(BookingError):
        book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))
    assert Appointment.objects.count() == 1


def test_a_time_that_is_not_a_slot_is_refused(brand):
    location, service = shop(brand), diagnosis(brand)
    customer = customer_with_chat(brand)
    for when in (paris(2031, 6, 9, 10, 10), paris(2031, 6, 8, 10), paris(2031, 6, 6, 10)):
        with pytest.raises(BookingError):  # off the grid, a Sunday, in the past
            book_appointment(location, service, when, customer=customer)


def test_confirmation_and_reminders_reach_the_customers_channel_with_the_link(brand):
    location, service = shop(brand), diagnosis(brand)
    customer = customer_with_chat(brand)
    appointment = book_appointment(location, service, MONDAY_TEN, customer=customer)
    run_pending()
    sent = Message.objects.filter(conversation=appointment.conversation, is_internal_note=False)
    confirmation = sent.get(author_kind=AuthorKind.SYSTEM)
    assert confirmation.channel == "webchat"
    assert "9 juin 2031, 10:00" in confirmation.text
    assert f"/appointments/{manage_token(appointment)}/" in confirmation.text
    make_jobs_due()
    run_pending()  # the day before and the hour before, made due
    texts = list(sent.filter(author_kind=AuthorKind.SYSTEM).values_list("text", flat=True))
    assert len(texts) == 3
    assert any(text.startswith("Rappel : votre rendez-vous est demain") for text in texts)
    assert any("dans une heure" in text for text in texts)


def test_a_moved_booking_keeps_only_its_new_reminders(brand):
    location, service = shop(brand), diagnosis(brand)
    appointment = book_appointment(
        location, service, MONDAY_TEN, customer=customer_with_chat(brand)
    )
    tuesday = paris(2031, 6, 10, 15)
    reschedule_appointment(appointment, tuesday)
    make_jobs_due()
    run_pending()
    texts = list(
        Message.objects.filter(
            conversation=appointment.conversation,
            author_kind=AuthorKind.SYSTEM,
            is_internal_note=False,
        ).values_list("text", flat=True)
    )
    assert not [t for t in texts if "9 juin" in t]
    assert len([t for t in texts if "10 juin 2031, 15:00" in t]) == 3  # moved + 2 reminders
    event = Event.objects.get(kind="appointment.rescheduled")
    assert datetime.fromisoformat(event.payload["previous_starts_at"]) == MONDAY_TEN
    # The Monday place is free again.
    assert MONDAY_TEN in {
        s.starts_at for s in available_slots(location, service, MONDAY_TEN, tuesday)
    }


def test_cancelling_frees_the_place_and_stops_the_reminders(brand, agent):
    location, service = shop(brand), diagnosis(brand)
    appointment = book_appointment(
        location, service, MONDAY_TEN, customer=customer_with_chat(brand)
    )
    run_pending()
    cancel_appointment(appointment, by=agent)
    make_jobs_due()
    run_pending()
    reminders = Message.objects.filter(text__startswith="Rappel")
    assert not reminders.exists()
    assert kinds_of(appointment) == ["appointment.booked", "appointment.cancelled"]
    again = book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))
    assert again.status == AppointmentStatus.BOOKED
    with pytest.raises(BookingError):
        cancel_appointment(appointment, by=agent)


def test_places_are_bounded_by_the_staff_with_the_skills(brand):
    location = shop(brand)
    screens = Skill.objects.create(brand=brand, name="Écrans")
    service = diagnosis(brand, capacity=3, skills=[screens])
    skilled, unskilled = make_agent(brand), make_agent(brand)
    AgentSkill.objects.create(membership=skilled, skill=screens)
    add_staff(location, skilled)
    add_staff(location, unskilled)
    book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))
    with pytest.raises(BookingError):  # one skilled person: one place
        book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))


def test_the_first_in_line_waits_only_while_every_desk_is_busy():
    line = [Appointment(service=Service(duration_minutes=minutes)) for minutes in (20, 40, 30)]
    # Two desks, both serving: the first waits for one of them (20 min over two desks).
    assert [p.wait_seconds for p in places(line, 2, free=0)] == [600, 1800, 2700]
    # One desk free: the first is called at once, the second waits as the first did.
    assert [p.wait_seconds for p in places(line, 2, free=1)] == [0, 900, 1800]
    assert place_sentence(0, 0) == "You are next in line."
    assert place_sentence(0, 600) == "You are next in line. Estimated wait: 10 min."


def test_check_in_call_serve_and_the_waiting_room(brand, agent):
    location, service = shop(brand), diagnosis(brand)
    add_staff(location, agent, desk="Comptoir 2")
    first = book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))
    with time_machine.travel(paris(2031, 6, 9, 9, 50), tick=False):
        walk_in = add_walk_in(location, service, by=agent, first_name="Léa")
        first = check_in(first)
        # Arrived early for 10:00: the walk-in who came at 09:50 goes first.
        assert (walk_in.ticket, first.ticket) == (1, 2)
        assert place_of(walk_in).position == 0 and place_of(walk_in).wait_seconds == 0
        assert place_of(first).position == 1
        # The desk is free: Léa is about to be called, then her 30 minutes.
        assert place_of(first).wait_seconds == 30 * 60
        called = call_next(location, agent)
        assert called.pk == walk_in.pk and called.desk == "Comptoir 2"
        assert place_of(first).position == 0
        serve_appointment(called, agent, outcome=Outcome.ADVICE)
        called = call_next(location, agent)
        assert called.pk == first.pk
        served = serve_appointment(
            called, agent, outcome=Outcome.OBSERVATION, diagnosis="Batterie gonflée"
        )
        assert call_next(location, agent) is None
    assert served.status == AppointmentStatus.SERVED and served.served_by == agent
    assert kinds_of(first) == [
        "appointment.booked",
        "appointment.checked_in",
        "appointment.called",
        "appointment.served",
    ]
    note = Message.objects.filter(conversation=first.conversation).order_by("-pk").first()
    assert "Gardé en observation" in note.text and "Batterie gonflée" in note.text
    with pytest.raises(BookingError):
        serve_appointment(served, agent, outcome=Outcome.FIXED)


def test_no_show_is_recorded_and_frees_the_place(brand, agent):
    location, service = shop(brand), diagnosis(brand)
    appointment = book_appointment(
        location, service, MONDAY_TEN, customer=customer_with_chat(brand)
    )
    mark_no_show(appointment, agent)
    assert kinds_of(appointment)[-1] == "appointment.no_show"
    assert MONDAY_TEN in {
        s.starts_at for s in available_slots(location, service, MONDAY_TEN, paris(2031, 6, 9, 11))
    }
    with pytest.raises(BookingError):
        check_in(appointment)


def test_the_signed_link_names_one_booking_and_cannot_be_forged(brand):
    location, service = shop(brand), diagnosis(brand)
    appointment = book_appointment(
        location, service, MONDAY_TEN, customer=customer_with_chat(brand)
    )
    token = manage_token(appointment)
    assert appointment_for_token(token) == appointment
    assert appointment_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert appointment_for_token("not-a-token") is None


def test_another_brands_service_or_customer_cannot_be_booked(brand, other_brand):
    location, service = shop(brand), diagnosis(brand)
    with pytest.raises(BookingError):
        book_appointment(
            location, diagnosis(other_brand), MONDAY_TEN, customer=customer_with_chat(brand)
        )
    with pytest.raises(BookingError):
        book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(other_brand))


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; row locks are tested here"
)
@pytest.mark.django_db(transaction=True)
def test_two_customers_booking_the_last_place_at_once_exactly_one_gets_it():
    brand = make_brand("Concurrent")
    location, service = shop(brand), diagnosis(brand, capacity=2)
    book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))
    customers = [customer_with_chat(brand) for _ in range(6)]
    barrier = threading.Barrier(len(customers))
    booked: list[int] = []
    refused: list[int] = []
    errors: list[Exception] = []

    def book(customer) -> None:
        try:
            barrier.wait()
            booked.append(book_appointment(location, service, MONDAY_TEN, customer=customer).pk)
        except BookingError:
            refused.append(customer.pk)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    with time_machine.travel(NOW, tick=True):
        threads = [threading.Thread(target=book, args=(c,)) for c in customers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    assert len(booked) == 1 and len(refused) == 5
    assert Appointment.objects.filter(location=location, starts_at=MONDAY_TEN).count() == 2
    assert Event.objects.filter(brand=brand, kind="appointment.booked").count() == 2


def test_kept_under_observation_the_customer_hears_when_and_the_agent_gets_the_case(brand, agent):
    location, service = shop(brand), diagnosis(brand)
    customer = customer_with_chat(brand)
    conversation = customer.conversations.get()
    with time_machine.travel(paris(2031, 6, 9, 18, 40), tick=False):  # Monday evening
        visit = add_walk_in(location, service, by=agent, customer=customer)
        serve_appointment(visit, agent, outcome=Outcome.OBSERVATION, diagnosis="Surchauffe")
        resolve_conversation(agent, conversation)
        run_pending()
        notice = Message.objects.get(conversation=conversation, text__startswith="Nous gardons")
        # A day later is Tuesday 18:40: the shop closes at 19:00, so then.
        assert "10 juin 2031, 18:40" in notice.text
        assert not notice.is_internal_note and notice.channel == "webchat"
    with time_machine.travel(paris(2031, 6, 10, 18, 41), tick=False):
        make_jobs_due()
        run_pending()
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.assignee == agent
    assert (
        Message.objects.filter(
            conversation=conversation, is_internal_note=True, text__startswith="Suivi"
        ).count()
        == 1
    )


def test_staff_hours_and_absences_limit_the_slots_offered_and_booked(brand, agent, colleague):
    location, service = shop(brand), diagnosis(brand, capacity=2)
    morning = add_staff(location, agent)
    afternoon = add_staff(location, colleague)
    configure.set_working_hours(morning, {0: [(time(10), time(13))]})
    configure.set_working_hours(afternoon, {0: [(time(14), time(19))], 1: [(time(10), time(19))]})
    monday = {
        slot.starts_at: slot.free
        for slot in available_slots(location, service, MONDAY_TEN, paris(2031, 6, 10))
    }
    assert monday[MONDAY_TEN] == 1 and monday[paris(2031, 6, 9, 14)] == 1
    configure.add_absence(afternoon, paris(2031, 6, 9, 14), paris(2031, 6, 9, 16), reason="RDV")
    starts = {
        s.starts_at for s in available_slots(location, service, MONDAY_TEN, paris(2031, 6, 10))
    }
    assert paris(2031, 6, 9, 14) not in starts and paris(2031, 6, 9, 16) in starts
    with pytest.raises(BookingError):
        book_appointment(
            location, service, paris(2031, 6, 9, 14, 30), customer=customer_with_chat(brand)
        )
    book_appointment(location, service, MONDAY_TEN, customer=customer_with_chat(brand))
    # The only one at work that morning is taken: the slot is full at one booking.
    assert MONDAY_TEN not in {
        s.starts_at for s in available_slots(location, service, MONDAY_TEN, paris(2031, 6, 10))
    }
