"""Settings → Appointments: administrators set up locations, services, staff and their hours."""

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse

from comptoir.appointments.models import Absence, Location, Resource, Service, WorkingHours
from comptoir.routing.models import Skill
from comptoir.tenancy.models import Role
from tests.appointment_helpers import diagnosis, shop
from tests.factories import make_agent
from tests.sla_helpers import office_calendar


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def test_an_administrator_adds_a_location_a_service_and_staff_with_hours(
    admin_client, brand, agent
):
    calendar = office_calendar(brand, name="Horaires Opéra")
    skill = Skill.objects.create(brand=brand, name="Écrans")
    setup = reverse("appointments:setup")
    assert admin_client.get(setup).status_code == 200
    response = admin_client.post(
        setup,
        {
            "form": "location",
            "location-name": "Boutique Opéra",
            "location-address": "1 place de l'Opéra",
            "location-calendar": calendar.pk,
        },
    )
    location = Location.objects.get(brand=brand, name="Boutique Opéra")
    assert response.url == reverse("appointments:setup_location", args=[location.pk])
    admin_client.post(
        setup,
        {
            "form": "service",
            "service-name_fr": "Réparation écran",
            "service-name_en": "Screen repair",
            "service-duration_minutes": 45,
            "service-capacity": 2,
            "service-skills": [skill.pk],
        },
    )
    service = Service.objects.get(brand=brand, name_en="Screen repair")
    assert (service.duration_minutes, list(service.skills.all())) == (45, [skill])

    added = admin_client.post(
        reverse("appointments:setup_location", args=[location.pk]),
        {"form": "staff", "membership": agent.pk, "desk": "Comptoir 1"},
    )
    resource = Resource.objects.get(location=location, membership=agent)
    assert added.url == reverse("appointments:setup_staff", args=[resource.pk])
    staff_page = reverse("appointments:setup_staff", args=[resource.pk])
    admin_client.post(
        staff_page, {"form": "hours", "desk": "Comptoir 2", "day_0": "10:00-13:00, 14:00-19:00"}
    )
    assert list(resource.hours.values_list("weekday", "starts", "ends")) == [
        (0, time(10), time(13)),
        (0, time(14), time(19)),
    ]
    resource.refresh_from_db()
    assert resource.desk == "Comptoir 2"
    admin_client.post(
        staff_page,
        {
            "form": "absence",
            "starts_at": "2031-06-09T10:00",
            "ends_at": "2031-06-09T12:00",
            "reason": "Formation",
        },
    )
    absence = Absence.objects.get(resource=resource)
    # Typed in the location's time zone (Paris, summer time).
    assert absence.starts_at == datetime(2031, 6, 9, 8, tzinfo=UTC)
    page = admin_client.get(staff_page).content.decode()
    assert "Formation" in page and "10:00-13:00, 14:00-19:00" in page
    admin_client.post(staff_page, {"form": "remove_absence", "absence": absence.pk})
    assert not Absence.objects.exists()


def test_bad_hours_and_absences_are_refused_with_their_reason(admin_client, brand, agent):
    location = shop(brand)
    resource = Resource.objects.create(location=location, membership=agent)
    page = reverse("appointments:setup_staff", args=[resource.pk])
    refused = admin_client.post(page, {"form": "hours", "day_1": "14:00-10:00"})
    assert refused.status_code == 400
    assert "ends before it starts" in refused.content.decode()
    backwards = admin_client.post(
        page, {"form": "absence", "starts_at": "2031-06-09T12:00", "ends_at": "2031-06-09T10:00"}
    )
    assert backwards.status_code == 400
    assert not WorkingHours.objects.exists() and not Absence.objects.exists()
    same_name = admin_client.post(
        reverse("appointments:setup"),
        {
            "form": "location",
            "location-name": location.name,
            "location-calendar": location.calendar_id,
        },
    )
    assert same_name.status_code == 400
    assert "exists already" in same_name.content.decode()


def test_another_brands_calendar_agent_or_skill_cannot_be_chosen(admin_client, brand, other_brand):
    location, service = shop(brand), diagnosis(brand)
    theirs = office_calendar(other_brand, name="Rival")
    outsider = make_agent(other_brand)
    skill = Skill.objects.create(brand=other_brand, name="Rival skill")
    response = admin_client.post(
        reverse("appointments:setup_location", args=[location.pk]),
        {"form": "location", "name": "Renamed", "calendar": theirs.pk},
    )
    assert response.status_code == 400
    response = admin_client.post(
        reverse("appointments:setup_location", args=[location.pk]),
        {"form": "staff", "membership": outsider.pk},
    )
    assert response.status_code == 400 and not Resource.objects.exists()
    response = admin_client.post(
        reverse("appointments:setup_service", args=[service.pk]),
        {
            "name_fr": "x",
            "name_en": "y",
            "duration_minutes": 30,
            "capacity": 1,
            "skills": [skill.pk],
        },
    )
    assert response.status_code == 400 and not service.skills.exists()


def test_a_supervisor_cannot_open_the_set_up(client, brand):
    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    assert client.get(reverse("appointments:setup")).status_code == 403
