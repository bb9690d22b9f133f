"""The assistant books instead of handing off when the shop has free slots (issue 16).

The real classifier recognises "appointment"; the intent's action
``book_appointment`` makes the assistant list the next free slots, numbered,
and book the one the customer answers with; the widget is told (an
``appointment.slots_offered`` event with a customer payload) so it opens its
slot picker. No free slot: the usual handoff.
"""

from django.utils.dateparse import parse_datetime

from comptoir.appointments import actions
from comptoir.appointments.models import Appointment, AppointmentStatus
from comptoir.assistant.models import ConversationState, Intent, Outcome
from comptoir.events.models import Event
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat
from tests.test_assistant import bot_messages, job_of, setup_assistant, write


def booking_assistant(brand) -> None:
    setup_assistant(brand)
    Intent.objects.filter(brand=brand, name="appointment").update(
        automatable=True, action="book_appointment"
    )


def test_the_assistant_offers_the_next_slots_then_books_the_one_picked(brand):
    location, service = shop(brand), diagnosis(brand)
    booking_assistant(brand)
    asked = write(brand, "Bonjour, je voudrais prendre rendez-vous en boutique")
    job = job_of(asked)
    assert (job.intent, job.outcome, job.reason) == (
        "appointment",
        Outcome.ANSWERED,
        "slots_offered",
    )
    [offer] = bot_messages(asked.conversation_id)
    assert "Boutique Opéra" in offer.text and "1. " in offer.text and "3. " in offer.text
    event = Event.objects.get(kind="appointment.slots_offered", conversation=asked.conversation)
    assert event.customer_payload["location_id"] == location.pk
    assert event.customer_payload["service_id"] == service.pk
    slots = event.customer_payload["slots"]
    assert len(slots) == 3

    picked = write(brand, "le 2 svp")
    assert (job_of(picked).outcome, job_of(picked).reason) == (Outcome.ANSWERED, "booked")
    appointment = Appointment.objects.get(customer=asked.conversation.customer)
    assert appointment.starts_at == parse_datetime(slots[1])
    assert appointment.status == AppointmentStatus.BOOKED
    assert Event.objects.filter(kind="appointment.booked", payload__id=appointment.pk).exists()
    reply = bot_messages(asked.conversation_id)[-1]
    assert appointment.reference in reply.text
    state = ConversationState.objects.get(conversation_id=asked.conversation_id)
    assert state.pending_action == "" and state.handed_off_at is None


def test_a_slot_taken_meanwhile_is_offered_again(brand):
    location, service = shop(brand), diagnosis(brand)
    booking_assistant(brand)
    asked = write(brand, "Bonjour, je voudrais prendre rendez-vous en boutique")
    first = parse_datetime(
        Event.objects.get(kind="appointment.slots_offered").customer_payload["slots"][0]
    )
    actions.book_appointment(
        location,
        service,
        first,
        customer=ingest_chat(brand, "Bonjour", visitor_id="b" * 32).conversation.customer,
    )
    picked = write(brand, "1")
    assert job_of(picked).reason == "slot_taken"
    assert not Appointment.objects.filter(customer=asked.conversation.customer).exists()
    offers = Event.objects.filter(kind="appointment.slots_offered").order_by("pk")
    assert offers.count() == 2
    assert first.isoformat() not in offers.last().customer_payload["slots"]
    state = ConversationState.objects.get(conversation_id=asked.conversation_id)
    assert state.pending_action == "book_appointment"


def test_without_a_free_slot_the_assistant_hands_off(brand):
    booking_assistant(brand)  # no location set up
    asked = write(brand, "Bonjour, je voudrais prendre rendez-vous en boutique")
    assert (job_of(asked).outcome, job_of(asked).reason) == (Outcome.HANDOFF, "no_slots")
    assert not Event.objects.filter(kind="appointment.slots_offered").exists()
    summary = ConversationState.objects.get(conversation_id=asked.conversation_id).summary
    assert summary["intent"] == "appointment"


def test_a_customer_with_a_booking_ahead_is_pointed_to_it(brand):
    location, service = shop(brand), diagnosis(brand)
    booking_assistant(brand)
    asked = write(brand, "Bonjour")
    customer = asked.conversation.customer
    offer = actions.available_slots(
        location, service, asked.created_at, asked.created_at + actions.BOOKING_HORIZON
    )[0]
    appointment = actions.book_appointment(location, service, offer.starts_at, customer=customer)
    again = write(brand, "Je voudrais prendre rendez-vous en boutique")
    assert job_of(again).reason == "existing_booking"
    reply = bot_messages(asked.conversation_id)[-1]
    assert appointment.reference in reply.text and "/appointments/" in reply.text


def test_a_number_without_an_offer_books_nothing(brand):
    shop(brand), diagnosis(brand)
    booking_assistant(brand)
    write(brand, "2")
    assert not Appointment.objects.exists()
