"""The SLA administration page, the API's SLA read access and the "pending" status."""

from datetime import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from comptoir.conversations.models import Status
from comptoir.sla.models import BusinessCalendar, Closure, Holiday, SlaClock, SlaPolicy
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role, Team
from tests.factories import ingest_chat, make_agent
from tests.sla_helpers import office_policy, paris
from tests.test_sla_calendars import ICS


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def test_an_administrator_builds_a_calendar_with_breaks_holidays_and_an_ical_import(
    admin_client, brand
):
    response = admin_client.post(
        reverse("sla:calendar_create"), {"name": "Bureau", "time_zone": "Europe/Paris"}
    )
    calendar = BusinessCalendar.objects.get(brand=brand, name="Bureau")
    assert response.status_code == 302
    hours = {f"day_{day}": "09:00-12:30, 14:00-18:00" for day in range(5)}
    response = admin_client.post(
        reverse("sla:calendar_edit", args=[calendar.pk]),
        {"name": "Bureau", "time_zone": "Europe/Paris", **hours, "day_5": "10:00-13:00"},
    )
    assert response.status_code == 302
    week = calendar.as_calendar().week
    assert len(week[0]) == 2 and 6 not in week
    admin_client.post(
        reverse("sla:holiday_add", args=[calendar.pk]), {"date": "2031-11-11", "name": "Armistice"}
    )
    assert Holiday.objects.filter(calendar=calendar, name="Armistice").exists()

    upload = SimpleUploadedFile("holidays.ics", ICS, content_type="text/calendar")
    response = admin_client.post(
        reverse("sla:calendar_import", args=[calendar.pk]), {"file": upload}
    )
    assert response.status_code == 302
    assert Holiday.objects.filter(calendar=calendar, name="Fete nationale").exists()
    assert Closure.objects.filter(calendar=calendar, name="Inventaire").exists()
    page = admin_client.get(reverse("sla:calendar_edit", args=[calendar.pk])).content.decode()
    assert "Armistice" in page and "Inventaire" in page and "09:00-12:30, 14:00-18:00" in page


def test_bad_hours_and_a_bad_ical_file_are_refused_with_a_reason(admin_client, brand):
    admin_client.post(reverse("sla:calendar_create"), {"name": "B", "time_zone": "Europe/Paris"})
    calendar = BusinessCalendar.objects.get(brand=brand)
    response = admin_client.post(
        reverse("sla:calendar_edit", args=[calendar.pk]),
        {"name": "B", "time_zone": "Europe/Paris", "day_0": "18:00-09:00"},
    )
    assert response.status_code == 400
    assert "ends before it starts" in response.content.decode()
    response = admin_client.post(
        reverse("sla:calendar_create"), {"name": "C", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    # A second default calendar (no team), or a name taken: refused, not a server error.
    response = admin_client.post(
        reverse("sla:calendar_create"), {"name": "C", "time_zone": "Europe/Paris"}
    )
    assert response.status_code == 400 and "already has a default" in response.content.decode()
    team = Team.objects.create(brand=brand, name="Experts")
    response = admin_client.post(
        reverse("sla:calendar_create"), {"name": "B", "time_zone": "UTC", "team": team.pk}
    )
    assert response.status_code == 400 and "Another calendar" in response.content.decode()
    upload = SimpleUploadedFile("x.ics", b"not a calendar", content_type="text/calendar")
    response = admin_client.post(
        reverse("sla:calendar_import", args=[calendar.pk]), {"file": upload}, follow=True
    )
    assert "could not be read" in response.content.decode()
    assert not Holiday.objects.filter(calendar=calendar).exists()


def test_an_administrator_creates_and_edits_a_policy(admin_client, brand):
    team = Team.objects.create(brand=brand, name="Experts")
    admin_client.post(reverse("sla:calendar_create"), {"name": "B", "time_zone": "Europe/Paris"})
    calendar = BusinessCalendar.objects.get(brand=brand)
    form = {
        "name": "VIP",
        "calendar": calendar.pk,
        "team": team.pk,
        "priority": "3",
        "channel": "",
        "first_response_minutes": "15",
        "resolution_minutes": "240",
        "at_risk_percent": "75",
        "on_reopen": "restart",
    }
    assert admin_client.post(reverse("sla:policy_create"), form).status_code == 302
    policy = SlaPolicy.objects.get(brand=brand)
    assert (policy.first_response_seconds, policy.next_response_seconds) == (900, None)
    assert policy.priority == 3 and policy.team == team and policy.at_risk_percent == 75
    form["first_response_minutes"] = "10"
    admin_client.post(reverse("sla:policy_edit", args=[policy.pk]), form)
    policy.refresh_from_db()
    assert policy.first_response_seconds == 600
    no_target = form | {"first_response_minutes": "", "resolution_minutes": "", "name": "X"}
    response = admin_client.post(reverse("sla:policy_create"), no_target)
    assert response.status_code == 400 and "at least one target" in response.content.decode()
    assert "VIP" in admin_client.get(reverse("sla:overview")).content.decode()


def test_a_policy_cannot_use_another_brands_calendar(admin_client, brand, other_brand):
    foreign = BusinessCalendar.objects.create(brand=other_brand, name="Theirs")
    form = {"name": "P", "calendar": foreign.pk, "first_response_minutes": "5"}
    form |= {"at_risk_percent": "80", "on_reopen": "resume"}
    response = admin_client.post(reverse("sla:policy_create"), form)
    assert response.status_code == 400
    assert not SlaPolicy.objects.exists()


def test_agents_get_403_and_another_brands_admin_404(client, brand, agent, other_brand):
    policy = office_policy(brand)
    client.force_login(agent.user)
    assert client.get(reverse("sla:overview")).status_code == 403
    assert client.get(reverse("sla:policy_edit", args=[policy.pk])).status_code == 403
    client.force_login(make_agent(other_brand, Role.ADMIN).user)
    assert client.get(reverse("sla:policy_edit", args=[policy.pk])).status_code == 404
    assert client.get(reverse("sla:calendar_edit", args=[policy.calendar_id])).status_code == 404
    assert client.post(reverse("sla:policy_delete", args=[policy.pk])).status_code == 404
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_the_api_shows_a_conversations_sla_and_sets_it_pending(client, brand, agent):
    office_policy(brand)
    _, key = ApiToken.issue(agent, "sla")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        conversation = ingest_chat(brand).conversation
        run_pending()
        body = client.get(f"/api/conversations/{conversation.pk}/sla", **headers).json()
    assert body["policy_name"] == "Standard"
    clocks = {clock["target"]: clock for clock in body["clocks"]}
    assert clocks["first_response"]["state"] == "running"
    due_at = clocks["first_response"]["due_at"].replace("Z", "+00:00")
    assert datetime.fromisoformat(due_at) == paris(2031, 6, 3, 11)
    assert clocks["first_response"]["at_risk"] is False
    with time_machine.travel(paris(2031, 6, 3, 10), tick=False):
        response = client.post(f"/api/conversations/{conversation.pk}/pending", **headers)
        assert response.status_code == 200 and response.json()["status"] == Status.PENDING
        assert (
            client.post(f"/api/conversations/{conversation.pk}/pending", **headers).status_code
            == 409
        )
        run_pending()
    assert SlaClock.objects.get(conversation=conversation, target="resolution").state == "paused"


def test_mark_pending_from_the_console(agent_client, brand):
    conversation = ingest_chat(brand).conversation
    response = agent_client.post(reverse("console:pending", args=[conversation.pk]))
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING


def test_the_inbox_and_the_conversation_page_flag_a_conversation_close_to_breach(
    client, brand, agent
):
    office_policy(brand)
    with time_machine.travel(paris(2031, 6, 3, 9), tick=False):
        at_risk = ingest_chat(brand, "Vite !").conversation
        run_pending()
    with time_machine.travel(paris(2031, 6, 3, 10, 40), tick=False):
        calm = ingest_chat(brand, "Quand vous pourrez").conversation
        run_pending()
        # Logged in at the travelled time: a session opened in the present expired in 2031.
        client.force_login(agent.user)
        inbox = client.get(reverse("console:inbox") + "?view=all").content.decode()
        page = client.get(reverse("console:conversation", args=[calm.pk])).content.decode()
    # 100 min of the 2 h first-response target used (at risk after 96): 20 min left. The new
    # one is not at risk: its page shows the wall-clock time to its due time (14:10, after
    # the lunch break), the inbox nothing.
    assert inbox.count("chip--sla-at-risk") == 1
    assert "SLA: 20 min left" in inbox
    meta = page.split("thread__meta")[1].split("</div>")[0]
    assert "SLA: 3 h 30 left" in meta and "chip--sla-at-risk" not in meta
    with time_machine.travel(paris(2031, 6, 3, 11, 10), tick=False):
        client.force_login(agent.user)
        client.cookies.load({"django_language": "fr"})
        page = client.get(reverse("console:conversation", args=[at_risk.pk])).content.decode()
    assert "SLA dépassé de 10 min" in page
