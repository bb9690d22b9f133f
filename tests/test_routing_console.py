"""``/console/routing/``: administrators set the routing rules, skills and agents' capacity."""

from django.urls import reverse

from comptoir.routing.models import AgentProfile, AgentSkill, RoutingSettings, Skill
from comptoir.routing.rules import channels_routed_when_new
from comptoir.tenancy.models import Role
from tests.factories import make_agent


def test_an_administrator_sets_the_rules_and_an_agents_capacity_languages_and_skills(
    client, brand, admin, agent
):
    client.force_login(admin.user)
    page = client.get(reverse("routing:console"))
    assert page.status_code == 200
    assert f'data-agent-id="{agent.pk}"'.encode() in page.content

    response = client.post(
        reverse("routing:console"),
        {
            "advisor_mode": "named",
            "advisor_wait_seconds": 30,
            "advisor_line_wait_seconds": 240,
            "drop_optional_after_seconds": 90,
            "overflow_after_seconds": 240,
            "away_after_minutes": 10,
            "chat_capacity": 4,
            "email_capacity": 12,
            "call_capacity": 1,
            "messaging_capacity": 6,
            "call_takes_whole_capacity": "on",
            "vip_weight_minutes": 10,
            "high_weight_minutes": 5,
            "urgent_weight_minutes": 15,
            "sla_risk_weight_minutes": 20,
            "route_new_channels": "email, phone",
            "offer_callback_after_seconds": 180,
        },
    )
    assert response.status_code == 302
    rules = RoutingSettings.objects.get(brand=brand)
    assert (rules.advisor_wait_seconds, rules.chat_capacity) == (30, 4)
    assert rules.advisor_line_wait_seconds == 240
    assert rules.offer_callback_after_seconds == 180
    assert rules.route_new_channels == "email,phone"
    assert channels_routed_when_new()[brand.pk] == {"email", "phone"}

    client.post(reverse("routing:skill_add"), {"name": "facturation"})
    skill = Skill.objects.get(brand=brand, name="facturation")
    response = client.post(
        reverse("routing:agent", args=[agent.pk]),
        {"chat_capacity": 2, "languages": "FR, en", f"skill_{skill.pk}": 4},
    )
    assert response.status_code == 302
    profile = AgentProfile.objects.get(membership=agent)
    assert (profile.chat_capacity, profile.email_capacity, profile.languages) == (2, None, "fr,en")
    assert AgentSkill.objects.get(membership=agent, skill=skill).level == 4
    client.post(
        reverse("routing:agent", args=[agent.pk]), {"languages": "", f"skill_{skill.pk}": 0}
    )
    assert not AgentSkill.objects.filter(membership=agent).exists()


def test_bad_input_is_a_400_with_the_reason_and_changes_nothing(client, brand, admin, agent):
    client.force_login(admin.user)
    response = client.post(reverse("routing:console"), {"route_new_channels": "fax"})
    assert response.status_code == 400
    assert b"Unknown channel: fax" in response.content
    assert not RoutingSettings.objects.filter(brand=brand).exists()
    response = client.post(reverse("routing:agent", args=[agent.pk]), {"languages": "français!"})
    assert response.status_code == 400
    assert b"Not a language code" in response.content
    assert not AgentProfile.objects.filter(membership=agent).exists()


def test_agents_and_supervisors_get_403(client, brand, agent):
    for member in (agent, make_agent(brand, Role.SUPERVISOR)):
        client.force_login(member.user)
        assert client.get(reverse("routing:console")).status_code == 403
        assert client.post(reverse("routing:console"), {}).status_code == 403
        assert client.get(reverse("routing:agent", args=[agent.pk])).status_code == 403
        assert client.post(reverse("routing:skill_add"), {"name": "x"}).status_code == 403
    assert not Skill.objects.exists()


def test_another_brands_administrator_gets_404_for_our_agents(client, brand, agent, other_brand):
    rival_admin = make_agent(other_brand, Role.ADMIN)
    client.force_login(rival_admin.user)
    assert client.get(reverse("routing:agent", args=[agent.pk])).status_code == 404
    assert client.post(reverse("routing:agent", args=[agent.pk]), {}).status_code == 404
    page = client.get(reverse("routing:console"))
    assert f'data-agent-id="{agent.pk}"'.encode() not in page.content  # their own brand only
    assert not AgentProfile.objects.filter(membership=agent).exists()


def test_the_page_speaks_french(client, brand, admin):
    client.force_login(admin.user)
    page = client.get(reverse("routing:console"), headers={"Accept-Language": "fr"})
    assert b"Routage" in page.content
    assert "Compétences".encode() in page.content


def test_an_administrator_maps_intents_and_channels_to_skills_and_sets_overflow_teams(
    client, brand, admin, other_brand
):
    from comptoir.assistant.models import Intent
    from comptoir.routing.models import SkillRequirement, TeamRouting
    from comptoir.routing.router import required_skills
    from comptoir.tenancy.models import Team

    client.force_login(admin.user)
    billing = Skill.objects.create(brand=brand, name="facturation")
    intent = Intent.objects.create(brand=brand, name="Remboursement")
    rival_skill = Skill.objects.create(brand=other_brand, name="rival")
    add = reverse("routing:requirement_add")

    response = client.post(add, {"skill": billing.pk, "intent": intent.pk, "min_level": 3})
    assert response.status_code == 302
    response = client.post(
        add, {"skill": billing.pk, "channel": "phone", "min_level": 2, "optional": "on"}
    )
    assert response.status_code == 302
    assert required_skills(brand.pk, intent.pk, "webchat") == [
        {"skill": billing.pk, "level": 3, "optional": False}
    ]
    assert required_skills(brand.pk, None, "phone") == [
        {"skill": billing.pk, "level": 2, "optional": True}
    ]

    # Both or neither of intent and channel, another brand's skill, a level out of range: 400.
    for wrong in (
        {"skill": billing.pk, "intent": intent.pk, "channel": "phone", "min_level": 1},
        {"skill": billing.pk, "min_level": 1},
        {"skill": rival_skill.pk, "channel": "email", "min_level": 1},
        {"skill": billing.pk, "channel": "email", "min_level": 9},
    ):
        assert client.post(add, wrong).status_code == 400, wrong
    assert SkillRequirement.objects.filter(brand=brand).count() == 2
    page = client.get(reverse("routing:console"))
    assert b"Remboursement" in page.content

    phone = SkillRequirement.objects.get(brand=brand, channel="phone")
    assert client.post(reverse("routing:requirement_delete", args=[phone.pk])).status_code == 302
    assert required_skills(brand.pk, None, "phone") == []

    sales = Team.objects.create(brand=brand, name="Ventes")
    care = Team.objects.create(brand=brand, name="Service client")
    rival_team = Team.objects.create(brand=other_brand, name="Rival")
    overflow = reverse("routing:overflow")
    assert client.post(overflow, {f"team_{sales.pk}": care.pk}).status_code == 302
    assert TeamRouting.objects.get(team=sales).overflow_team == care
    assert not TeamRouting.objects.filter(team=care).exists()
    # A team cannot overflow to itself nor to another brand's team.
    assert client.post(overflow, {f"team_{sales.pk}": sales.pk}).status_code == 400
    assert client.post(overflow, {f"team_{care.pk}": rival_team.pk}).status_code == 400
    assert client.post(overflow, {f"team_{sales.pk}": ""}).status_code == 302
    assert not TeamRouting.objects.exists()
