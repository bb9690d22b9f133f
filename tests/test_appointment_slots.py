"""Slots: a pure function of a calendar, a service's length, its capacity and the bookings."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from comptoir.appointments.slots import StaffTime, compute_slots
from comptoir.sla.calendars import Calendar

PARIS = ZoneInfo("Europe/Paris")
SHOP = {day: ((time(10), time(13)), (time(14), time(19))) for day in range(6)}
HALF_HOUR = timedelta(minutes=30)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def slots_of(calendar, start, end, *, booked=(), capacity=1, duration=HALF_HOUR, now=None):
    return compute_slots(
        calendar,
        duration=duration,
        capacity=capacity,
        booked=booked,
        start=start,
        end=end,
        now=now or paris(2000, 1, 1),
    )


def local_starts(slots) -> list[str]:
    return [slot.starts_at.astimezone(PARIS).strftime("%a %H:%M") for slot in slots]


def test_slots_follow_opening_hours_and_skip_the_lunch_break():
    calendar = Calendar(PARIS, SHOP)
    slots = slots_of(calendar, paris(2031, 6, 9), paris(2031, 6, 10))  # a Monday
    starts = local_starts(slots)
    assert starts[0] == "Mon 10:00" and starts[-1] == "Mon 18:30"
    assert "Mon 12:30" in starts and "Mon 13:00" not in starts and "Mon 13:30" not in starts
    assert len(starts) == 6 + 10
    assert all(slot.ends_at - slot.starts_at == HALF_HOUR and slot.free == 1 for slot in slots)


def test_a_slot_must_fit_wholly_before_a_break():
    calendar = Calendar(PARIS, SHOP)
    slots = slots_of(calendar, paris(2031, 6, 9), paris(2031, 6, 10), duration=timedelta(hours=2))
    # 10-12 fits, 12-14 would cross lunch; 14-16, 16-18; 18-20 would pass closing.
    assert local_starts(slots) == ["Mon 10:00", "Mon 14:00", "Mon 16:00"]


def test_slots_keep_local_time_across_the_spring_and_autumn_changes():
    calendar = Calendar(PARIS, SHOP)
    # Clocks go forward on Sunday 30 March 2031 (closed): 10:00 is 09:00 UTC before, 08:00 after.
    slots = slots_of(calendar, paris(2031, 3, 29), paris(2031, 4, 1))
    saturday = [s for s in slots if s.starts_at.astimezone(PARIS).date() == date(2031, 3, 29)]
    monday = [s for s in slots if s.starts_at.astimezone(PARIS).date() == date(2031, 3, 31)]
    assert saturday[0].starts_at == datetime(2031, 3, 29, 9, tzinfo=UTC)
    assert monday[0].starts_at == datetime(2031, 3, 31, 8, tzinfo=UTC)
    assert not [s for s in slots if s.starts_at.astimezone(PARIS).weekday() == 6]
    # Back in October (Sunday 26 October 2031): Monday's 10:00 is 09:00 UTC again.
    autumn = slots_of(calendar, paris(2031, 10, 27), paris(2031, 10, 28))
    assert autumn[0].starts_at == datetime(2031, 10, 27, 9, tzinfo=UTC)


def test_a_night_that_loses_an_hour_has_fewer_slots():
    # Open 01:00-04:00 local on the spring-forward night: only two real hours.
    calendar = Calendar(PARIS, {6: ((time(1), time(4)),)})
    slots = slots_of(calendar, paris(2031, 3, 30), paris(2031, 3, 31), duration=timedelta(hours=1))
    assert [s.starts_at for s in slots] == [
        datetime(2031, 3, 30, 0, tzinfo=UTC),
        datetime(2031, 3, 30, 1, tzinfo=UTC),
    ]
    assert [s.starts_at.astimezone(PARIS).strftime("%H:%M") for s in slots] == ["01:00", "03:00"]


def test_holidays_and_closures_have_no_slots():
    closure = (paris(2031, 6, 10, 15), paris(2031, 6, 10, 17))
    calendar = Calendar(PARIS, SHOP, holidays=frozenset({date(2031, 6, 9)}), closures=(closure,))
    slots = slots_of(calendar, paris(2031, 6, 9), paris(2031, 6, 11))
    starts = local_starts(slots)
    assert not [s for s in starts if s.startswith("Mon")]
    assert "Tue 14:30" in starts and "Tue 15:00" not in starts and "Tue 16:30" not in starts
    assert "Tue 17:00" in starts


def test_bookings_take_places_until_the_slot_is_full():
    calendar = Calendar(PARIS, SHOP)
    ten = paris(2031, 6, 9, 10)
    one = [(ten, ten + HALF_HOUR)]
    day = (paris(2031, 6, 9), paris(2031, 6, 9, 11))
    free = {s.starts_at: s.free for s in slots_of(calendar, *day, booked=one, capacity=2)}
    assert free[ten.astimezone(UTC)] == 1
    assert free[(ten + HALF_HOUR).astimezone(UTC)] == 2
    full = slots_of(calendar, *day, booked=one * 2, capacity=2)
    assert ten.astimezone(UTC) not in {s.starts_at for s in full}
    # A longer booking of another length overlaps two slots.
    long = [(ten, ten + timedelta(minutes=45))]
    until = (paris(2031, 6, 9), paris(2031, 6, 9, 11, 30))
    starts = {s.starts_at for s in slots_of(calendar, *until, booked=long)}
    assert starts == {paris(2031, 6, 9, 11).astimezone(UTC)}


def test_past_slots_and_slots_beyond_the_range_are_not_offered():
    calendar = Calendar(PARIS, SHOP)
    now = paris(2031, 6, 9, 17, 10)
    slots = slots_of(calendar, paris(2031, 6, 9), paris(2031, 6, 9, 18, 30), now=now)
    assert local_starts(slots) == ["Mon 17:30", "Mon 18:00"]


def test_a_calendar_without_hours_offers_nothing():
    assert slots_of(Calendar(PARIS, {}), paris(2031, 6, 9), paris(2031, 6, 10)) == []
    assert slots_of(Calendar(PARIS, SHOP), paris(2031, 6, 9), paris(2031, 6, 10), capacity=0) == []


# --- Staff schedules ---------------------------------------------------------------------------


def staffed(calendar, start, end, staff, *, capacity=2):
    return compute_slots(
        calendar,
        duration=HALF_HOUR,
        capacity=capacity,
        booked=(),
        start=start,
        end=end,
        now=paris(2000, 1, 1),
        staff=staff,
    )


def test_places_are_the_staff_at_work_for_the_whole_slot():
    calendar = Calendar(PARIS, SHOP)
    mornings = StaffTime({0: [(time(10), time(12))]})  # Mondays 10-12
    always = StaffTime()  # whenever the shop is open
    slots = staffed(calendar, paris(2031, 6, 9), paris(2031, 6, 10), [mornings, always])
    free = {s.starts_at.astimezone(PARIS).strftime("%H:%M"): s.free for s in slots}
    assert free["10:00"] == 2 and free["11:30"] == 2
    assert free["12:00"] == 1 and free["14:00"] == 1  # the morning shift is over
    # Nobody at work on Tuesday but the one without a schedule; alone, the shift ends the day.
    assert not staffed(calendar, paris(2031, 6, 10), paris(2031, 6, 11), [mornings])
    only = staffed(calendar, paris(2031, 6, 9), paris(2031, 6, 10), [mornings])
    assert local_starts(only)[0] == "Mon 10:00" and local_starts(only)[-1] == "Mon 11:30"


def test_an_absence_removes_its_staff_members_places():
    calendar = Calendar(PARIS, SHOP)
    away = StaffTime(absences=[(paris(2031, 6, 9, 14), paris(2031, 6, 10))])
    slots = staffed(calendar, paris(2031, 6, 9), paris(2031, 6, 11), [away])
    starts = local_starts(slots)
    assert "Mon 12:30" in starts and "Mon 14:00" not in starts and "Tue 10:00" in starts


def test_a_shift_is_local_time_on_both_sides_of_a_daylight_saving_change():
    calendar = Calendar(PARIS, SHOP)
    saturdays = StaffTime({5: [(time(10), time(11))]})
    # Saturday 25 October 2031 (summer time) and 1 November (winter time): 10:00-11:00 local.
    for day in (25, 1):
        month = 10 if day == 25 else 11
        slots = staffed(calendar, paris(2031, month, day), paris(2031, month, day, 23), [saturdays])
        assert local_starts(slots) == ["Sat 10:00", "Sat 10:30"]
    assert slots[0].starts_at == datetime(2031, 11, 1, 9, tzinfo=UTC)
