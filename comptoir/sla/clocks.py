"""SLA clocks: started, paused, resumed and stopped by what happens to a conversation.

``apply_event`` is the one entry point for conversation events (called by
``sla.listeners`` in a worker, one event at a time per conversation, in
order); ``sla.tasks.check_clock`` is the timers'. Every instant comes
from the event (when it happened), never from when the worker got to it, so a
late worker computes the same clocks.

The rules, per target of the conversation's policy (``sla.policies``):

- first response: starts when the conversation opens; an agent's reply (not a
  note, not the assistant nor an automatic acknowledgement) stops it;
- next response: starts at a customer's message once the first response is
  given, unless already running (it counts from the oldest unanswered
  message); the agent's next reply stops it;
- resolution: starts when the conversation opens; resolving stops it;
  reopening resumes it where it stopped, or restarts it from zero, as the
  policy says (``on_reopen``);
- every running clock pauses while the conversation is pending (waiting on the
  customer) and resumes when it opens again (the customer's reply, or an agent).

A clock that stops after its due time is breached at its due time (the timer
had not run yet): the breach event is appended then.
"""

from datetime import datetime

from django.db import transaction

from comptoir.conversations.models import AuthorKind, Conversation, Direction, Status
from comptoir.events import kinds
from comptoir.events.models import Event
from comptoir.sla.announce import breach, calendar_of, used_seconds
from comptoir.sla.calendars import Calendar, add_business_seconds
from comptoir.sla.models import ClockState, ConversationSla, ReopenRule, SlaClock, SlaPolicy, Target
from comptoir.sla.policies import policy_for
from comptoir.sla.tasks import check_clock

TARGET_FIELDS = {
    Target.FIRST_RESPONSE: "first_response_seconds",
    Target.NEXT_RESPONSE: "next_response_seconds",
    Target.RESOLUTION: "resolution_seconds",
}


def target_seconds(policy: SlaPolicy, target: str) -> int | None:
    return getattr(policy, TARGET_FIELDS[target])


# --- One clock --------------------------------------------------------------------------------


def _schedule(clock: SlaClock, calendar: Calendar, percent: int) -> None:
    """Due and at-risk instants of a running clock, and the timers that check them."""
    since = clock.running_since
    clock.due_at = add_business_seconds(
        calendar, since, clock.target_seconds - clock.elapsed_seconds
    )
    at_risk_share = clock.target_seconds * percent / 100
    clock.at_risk_at = add_business_seconds(
        calendar, since, max(0.0, at_risk_share - clock.elapsed_seconds)
    )
    lock = f"sla:{clock.conversation_id}:{clock.target}"
    if clock.at_risk_notified_at is None:
        check_clock.enqueue(clock_id=clock.pk, run_after=clock.at_risk_at, lock=lock)
    if clock.breached_at is None:
        check_clock.enqueue(clock_id=clock.pk, run_after=clock.due_at, lock=lock)


def _start(
    sla: ConversationSla, target: str, at: datetime, calendar: Calendar, policy: SlaPolicy
) -> SlaClock | None:
    """Start (or start again from zero) the ``target`` clock; None if the policy has no target."""
    seconds = target_seconds(policy, target)
    if seconds is None:
        return None
    clock, _ = SlaClock.objects.select_for_update().get_or_create(
        sla=sla,
        target=target,
        defaults={
            "conversation_id": sla.conversation_id,
            "brand_id": sla.brand_id,
            "target_seconds": seconds,
            "state": ClockState.RUNNING,
            "started_at": at,
        },
    )
    clock.target_seconds = seconds
    clock.state = ClockState.RUNNING
    clock.started_at = at
    clock.running_since = at
    clock.elapsed_seconds = 0.0
    clock.at_risk_notified_at = None
    clock.breached_at = None
    clock.stopped_at = None
    clock.save()  # a pk for the timers
    _schedule(clock, calendar, policy.at_risk_percent)
    clock.save()
    return clock


def _pause(clock: SlaClock, calendar: Calendar, at: datetime) -> None:
    if clock.state != ClockState.RUNNING:
        return
    clock.elapsed_seconds = used_seconds(clock, calendar, at)
    clock.state = ClockState.PAUSED
    clock.running_since = None
    clock.due_at = None
    clock.at_risk_at = None
    clock.save()


def _resume(clock: SlaClock, calendar: Calendar, policy: SlaPolicy, at: datetime) -> None:
    if clock.state == ClockState.RUNNING:
        return
    clock.state = ClockState.RUNNING
    clock.running_since = at
    clock.stopped_at = None
    _schedule(clock, calendar, policy.at_risk_percent)
    clock.save()


def _stop(clock: SlaClock, calendar: Calendar, at: datetime) -> None:
    if clock.state == ClockState.STOPPED:
        return
    was_running = clock.state == ClockState.RUNNING
    clock.elapsed_seconds = used_seconds(clock, calendar, at)
    clock.state = ClockState.STOPPED
    clock.running_since = None
    clock.at_risk_at = None
    clock.stopped_at = at
    if was_running and clock.breached_at is None and clock.due_at and at > clock.due_at:
        breach(clock, calendar, at)
    clock.save()


# --- Events -----------------------------------------------------------------------------------


def _is_agent_reply(message: dict) -> bool:
    return (
        message["direction"] == Direction.OUTBOUND
        and message["author_kind"] == AuthorKind.AGENT
        and not message["is_internal_note"]
    )


def _is_customer_message(message: dict) -> bool:
    return message["direction"] == Direction.INBOUND and message["author_kind"] == (
        AuthorKind.CUSTOMER
    )


def apply_event(event: Event) -> None:
    """Move the conversation's clocks for ``event`` (once: a replayed event is skipped)."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk=event.conversation_id)
            .first()
        )
        if conversation is None:
            return
        sla, created = ConversationSla.objects.select_for_update().get_or_create(
            conversation=conversation,
            defaults={"brand_id": conversation.brand_id, "policy": policy_for(conversation)},
        )
        if event.pk <= sla.last_event_id:
            return
        if not created:
            _follow_policy(sla, conversation, event.created_at)
        sla.last_event_id = event.pk
        sla.save(update_fields=["last_event_id", "policy"])
        policy = sla.policy
        if policy is None:
            return
        calendar = calendar_of(policy)
        clocks = {clock.target: clock for clock in sla.clocks.select_for_update()}
        for clock in clocks.values():
            clock.sla = sla
        at = event.created_at
        if event.kind in (kinds.CONVERSATION_CREATED.name, kinds.MESSAGE_CREATED.name):
            _on_message(sla, clocks, event.payload, conversation, calendar, policy, at)
        elif event.kind == kinds.CONVERSATION_UPDATED.name:
            _on_status(sla, clocks, event.payload["status"], calendar, policy, at)


def _ensure_started(sla, clocks, conversation, calendar, policy, at) -> None:
    """A conversation seen for the first time (opened, or older than its policy) gets clocks."""
    if Target.RESOLUTION not in clocks and conversation.status != Status.RESOLVED:
        clock = _start(sla, Target.RESOLUTION, at, calendar, policy)
        if clock is not None:
            clocks[clock.target] = clock
    if Target.FIRST_RESPONSE not in clocks and conversation.first_response_at is None:
        clock = _start(sla, Target.FIRST_RESPONSE, at, calendar, policy)
        if clock is not None:
            clocks[clock.target] = clock


def _on_message(sla, clocks, message, conversation, calendar, policy, at) -> None:
    if _is_customer_message(message):
        # A customer's reply ends the wait on them (ingest made the conversation open).
        for clock in clocks.values():
            if clock.state == ClockState.PAUSED:
                _resume(clock, calendar, policy, at)
        _ensure_started(sla, clocks, conversation, calendar, policy, at)
        first = clocks.get(Target.FIRST_RESPONSE)
        answered = first is None or first.state == ClockState.STOPPED
        following = clocks.get(Target.NEXT_RESPONSE)
        idle = following is None or following.state == ClockState.STOPPED
        if answered and conversation.first_response_at is not None and idle:
            _start(sla, Target.NEXT_RESPONSE, at, calendar, policy)
    elif _is_agent_reply(message):
        for target in (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE):
            if target in clocks:
                _stop(clocks[target], calendar, at)


def _on_status(sla, clocks, status, calendar, policy, at) -> None:
    if status == Status.PENDING:
        for clock in clocks.values():
            _pause(clock, calendar, at)
    elif status == Status.RESOLVED:
        for clock in clocks.values():
            _stop(clock, calendar, at)
    elif status == Status.OPEN:
        for clock in clocks.values():
            if clock.state == ClockState.PAUSED:
                _resume(clock, calendar, policy, at)
        resolution = clocks.get(Target.RESOLUTION)
        if resolution is not None and resolution.state == ClockState.STOPPED:
            # Reopened.
            if policy.on_reopen == ReopenRule.RESTART:
                _start(sla, Target.RESOLUTION, at, calendar, policy)
            else:
                _resume(resolution, calendar, policy, at)


def _follow_policy(sla: ConversationSla, conversation: Conversation, at: datetime) -> None:
    """Team, priority or channel changed: the new policy's targets apply to the clocks."""
    policy = policy_for(conversation)
    if policy is None or policy.pk == sla.policy_id:
        return
    old_calendar = calendar_of(sla.policy) if sla.policy is not None else None
    sla.policy = policy
    calendar = calendar_of(policy)
    for clock in sla.clocks.select_for_update():
        clock.sla = sla
        seconds = target_seconds(policy, clock.target)
        if seconds is None:
            clock.delete()
            continue
        if clock.state == ClockState.RUNNING and old_calendar is not None:
            # The business time used so far counts; what is left counts in the new calendar.
            clock.elapsed_seconds = used_seconds(clock, old_calendar, at)
            clock.running_since = at
        clock.target_seconds = seconds
        if clock.state == ClockState.RUNNING:
            _schedule(clock, calendar, policy.at_risk_percent)
        clock.save()
