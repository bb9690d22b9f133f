"""SLA clocks driven through real actions, listener jobs and timers, with the time travelling.

``time_machine`` moves the wall clock (actions, events and timers all read
it); delayed timer jobs are made due with ``make_jobs_due`` instead of waiting,
and run by ``run_pending`` as a worker would at their time.
"""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine

from comptoir.conversations.actions import (
    add_note,
    mark_pending,
    reopen_conversation,
    resolve_conversation,
    send_automatic_message,
    send_reply,
)
from comptoir.conversations.models import Channel
from comptoir.events.models import Event
from comptoir.sla import configure
from comptoir.sla.clocks import apply_event
from comptoir.sla.models import ClockState, ReopenRule, SlaClock, Target
from comptoir.sla.risk import at_risk_conversation_ids, clocks_of, team_opening
from comptoir.sla.tasks import check_clock_now as check_clock
from comptoir.tasks import run_pending
from tests.factories import ingest_chat
from tests.sla_helpers import (
    HOUR,
    PARIS,
    clock,
    office_calendar,
    office_policy,
    paris,
    run_timers,
    sla_events,
)

pytestmark = pytest.mark.django_db(transaction=False)


def customer_writes(brand, text="Bonjour", **kwargs):
    message = ingest_chat(brand, text, **kwargs)
    run_pending()
    return message


def test_first_response_due_counts_business_hours_across_the_weekend(brand, agent):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 6, 17), tick=False):  # a Friday
        conversation = customer_writes(brand).conversation
    first = clock(conversation, Target.FIRST_RESPONSE)
    assert first.state == ClockState.RUNNING
    # 1 h on Friday, then Monday 09:00-10:00.
    assert first.due_at == paris(2031, 6, 9, 10)
    # 80 % of 2 h = 96 min: Friday's hour, then 36 min on Monday.
    assert first.at_risk_at == paris(2031, 6, 9, 9, 36)
    # Resolution: 16 h = Friday 1 h + Monday 7.5 h + Tuesday 7.5 h → Tuesday 18:00.
    assert clock(conversation, Target.RESOLUTION).due_at == paris(2031, 6, 10, 18)

    with time_machine.travel(paris(2031, 6, 9, 9, 50), tick=False):
        run_timers()
        assert conversation.pk in at_risk_conversation_ids(brand, paris(2031, 6, 9, 9, 50))
    [at_risk] = sla_events(conversation, "sla.at_risk")
    assert at_risk.payload["target"] == Target.FIRST_RESPONSE
    assert at_risk.payload["seconds_left"] == 10 * 60
    assert sla_events(conversation, "sla.breached") == []

    with time_machine.travel(paris(2031, 6, 9, 10, 5), tick=False):
        run_timers()
        send_reply(agent, conversation, "Je regarde.")
        run_pending()
    [breach] = sla_events(conversation, "sla.breached")
    assert breach.payload["target"] == Target.FIRST_RESPONSE
    assert datetime.fromisoformat(breach.payload["due_at"]) == paris(2031, 6, 9, 10)
    assert breach.actor_kind == "system"
    first.refresh_from_db()
    assert first.state == ClockState.STOPPED and first.breached_at == paris(2031, 6, 9, 10)
    assert not first.met


def test_a_reply_in_time_meets_the_target_and_timers_then_do_nothing(brand, agent):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 10), tick=False):
        conversation = customer_writes(brand).conversation
    with time_machine.travel(paris(2031, 6, 3, 10, 30), tick=False):
        send_reply(agent, conversation, "Bonjour !")
        run_pending()
    first = clock(conversation, Target.FIRST_RESPONSE)
    assert first.met and first.elapsed_seconds == 30 * 60
    with time_machine.travel(paris(2031, 6, 5, 10), tick=False):
        run_timers()
    assert sla_events(conversation, "sla.breached") == [] or all(
        event.payload["target"] != Target.FIRST_RESPONSE
        for event in sla_events(conversation, "sla.breached")
    )
    assert sla_events(conversation, "sla.at_risk")[0].payload["target"] == Target.RESOLUTION


def test_notes_automatic_messages_and_the_assistant_do_not_count_as_a_response(brand, agent):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 10), tick=False):
        conversation = customer_writes(brand).conversation
        add_note(agent, conversation, "À voir")
        send_automatic_message(conversation, "Bien reçu", channel=Channel.WEBCHAT)
        run_pending()
    assert clock(conversation, Target.FIRST_RESPONSE).state == ClockState.RUNNING


def test_a_holiday_is_skipped(brand):
    calendar = office_calendar(brand)
    configure.add_holiday(calendar, paris(2031, 7, 14).date(), "Fête nationale")  # a Monday
    office_policy(brand, calendar)
    with time_machine.travel(paris(2031, 7, 11, 17), tick=False):  # Friday
        conversation = customer_writes(brand).conversation
    assert clock(conversation, Target.FIRST_RESPONSE).due_at == paris(2031, 7, 15, 10)


def test_the_due_time_is_local_across_the_change_to_summer_time(brand):
    office_policy(brand)
    # Friday 28 March 2031 at 17:00 (UTC+1); clocks go forward on Sunday 30 March.
    with time_machine.travel(paris(2031, 3, 28, 17), tick=False):
        conversation = customer_writes(brand).conversation
    due = clock(conversation, Target.FIRST_RESPONSE).due_at
    assert due == paris(2031, 3, 31, 10)  # Monday 10:00 local, UTC+2
    assert due.astimezone(PARIS).utcoffset() == timedelta(hours=2)


def test_pending_pauses_the_clocks_and_the_customer_reply_resumes_them(brand, agent):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):  # Tuesday
        visitor = uuid.uuid4().hex
        conversation = customer_writes(brand, visitor_id=visitor).conversation
    with time_machine.travel(paris(2031, 6, 3, 10), tick=False):
        send_reply(agent, conversation, "Pouvez-vous m'envoyer la facture ?")
        mark_pending(agent, conversation)
        run_pending()
    resolution = clock(conversation, Target.RESOLUTION)
    assert resolution.state == ClockState.PAUSED
    assert resolution.elapsed_seconds == HOUR and resolution.due_at is None

    # Two days later the customer answers: the wait on them did not count.
    with time_machine.travel(paris(2031, 6, 5, 15), tick=False):
        customer_writes(brand, "Voici la facture", visitor_id=visitor)
        conversation.refresh_from_db()
        assert conversation.status == "open"
        # The timers queued before the pause find nothing to do.
        run_timers()
    assert sla_events(conversation, "sla.breached") == []
    resolution.refresh_from_db()
    assert resolution.state == ClockState.RUNNING
    assert resolution.running_since == paris(2031, 6, 5, 15)
    # 15 h left from Thursday 15:00: 3 h Thursday, 7.5 h Friday, then Monday 09:00-12:30
    # and 14:00-15:00.
    assert resolution.due_at == paris(2031, 6, 9, 15)
    # The customer's reply starts the next-response clock: 4 h → Friday 10:00.
    following = clock(conversation, Target.NEXT_RESPONSE)
    assert following.state == ClockState.RUNNING
    assert following.due_at == paris(2031, 6, 6, 10)
    [view] = [v for v in clocks_of(conversation, paris(2031, 6, 5, 15)) if v.target == "resolution"]
    assert view.due_at == paris(2031, 6, 9, 15) and not view.at_risk


def test_a_timer_of_a_clock_that_moved_does_nothing(brand, agent):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = customer_writes(brand).conversation
    with time_machine.travel(paris(2031, 6, 3, 9, 5), tick=False):
        mark_pending(agent, conversation)
        run_pending()
    # Long after every original timer instant, while pending: nothing at risk, nothing breached.
    with time_machine.travel(paris(2031, 6, 20, 12), tick=False):
        run_timers()
        for one in SlaClock.objects.filter(conversation=conversation):
            check_clock(one.pk)
    assert sla_events(conversation, "sla.at_risk") == []
    assert sla_events(conversation, "sla.breached") == []


def test_timers_are_idempotent(brand):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = customer_writes(brand).conversation
    first = clock(conversation, Target.FIRST_RESPONSE)
    with time_machine.travel(paris(2031, 6, 3, 11, 30), tick=False):
        run_timers()
        check_clock(first.pk)
        check_clock(first.pk)
        run_timers()
    breaches = [e for e in sla_events(conversation, "sla.breached")]
    assert [e.payload["target"] for e in breaches] == [Target.FIRST_RESPONSE]
    at_risk = [e.payload["target"] for e in sla_events(conversation, "sla.at_risk")]
    # The first-response timer ran after its due time: breached, never also "at risk".
    assert Target.FIRST_RESPONSE not in at_risk


def test_an_event_applied_twice_moves_the_clocks_once(brand, agent):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = customer_writes(brand).conversation
    with time_machine.travel(paris(2031, 6, 3, 10), tick=False):
        mark_pending(agent, conversation)
        run_pending()
    paused = clock(conversation, Target.RESOLUTION)
    pending_event = Event.objects.filter(conversation=conversation, kind="conversation.updated")
    with time_machine.travel(paris(2031, 6, 4, 10), tick=False):
        apply_event(pending_event.latest("pk"))
    again = clock(conversation, Target.RESOLUTION)
    assert again.elapsed_seconds == paused.elapsed_seconds == HOUR


@pytest.mark.parametrize("rule", [ReopenRule.RESUME, ReopenRule.RESTART])
def test_resolving_stops_and_reopening_follows_the_policy(brand, agent, rule):
    office_policy(brand, on_reopen=rule)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = customer_writes(brand).conversation
    with time_machine.travel(paris(2031, 6, 3, 11), tick=False):
        send_reply(agent, conversation, "C'est fait.")
        resolve_conversation(agent, conversation)
        run_pending()
    resolution = clock(conversation, Target.RESOLUTION)
    assert resolution.state == ClockState.STOPPED and resolution.met
    with time_machine.travel(paris(2031, 6, 4, 9), tick=False):
        reopen_conversation(agent, conversation)
        run_pending()
    resolution.refresh_from_db()
    assert resolution.state == ClockState.RUNNING
    if rule == ReopenRule.RESTART:
        assert resolution.elapsed_seconds == 0
        # 16 h from Wednesday 09:00: Wednesday 7.5 h, Thursday 7.5 h, Friday 09:00-10:00.
        assert resolution.due_at == paris(2031, 6, 6, 10)
    else:
        assert resolution.elapsed_seconds == 2 * HOUR
        # 14 h left: Wednesday 7.5 h, Thursday 09:00-12:30 and 14:00-17:00.
        assert resolution.due_at == paris(2031, 6, 5, 17)


def test_a_brand_without_policy_gets_no_clock(brand, other_brand):
    office_policy(other_brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = customer_writes(brand).conversation
    assert not SlaClock.objects.filter(conversation=conversation).exists()


def test_team_opening_says_when_the_team_is_back(brand):
    office_calendar(brand)
    saturday = paris(2031, 6, 7, 11)
    opening = team_opening(brand, None, saturday)
    assert not opening.open_now and opening.back_at == paris(2031, 6, 9, 9)
    assert team_opening(brand, None, paris(2031, 6, 9, 9, 1)).open_now
