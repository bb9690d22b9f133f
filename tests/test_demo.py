"""The demo shop page and the demo data loader."""

from django.core.management import call_command

from comptoir.appointments.models import AppointmentStatus, Device, Location, Service
from comptoir.conversations.models import Conversation, Message, Status
from comptoir.customers.models import Customer, Identity
from comptoir.events.kinds import ASSISTANT_INTENTS_CHANGED
from comptoir.events.models import Event
from comptoir.tenancy.models import ApiToken, Brand, Membership, Role, Team


def counts() -> dict[str, int]:
    models = (Brand, Membership, Team, Customer, Identity, Conversation, Message, ApiToken)
    found = {model.__name__: model.objects.count() for model in models}
    # Each load asks for the assistant's training (a no-op when its intents are unchanged):
    # that request is the only event a second load may add.
    found["Event"] = Event.objects.exclude(kind=ASSISTANT_INTENTS_CHANGED.name).count()
    return found


def test_root_redirects_to_the_demo_shop(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/demo/"


def test_demo_shop_is_public_and_embeds_the_widget(client, db):
    response = client.get("/demo/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'src="/widget.js"' in html
    assert 'data-brand="maison-demo"' in html
    assert "Maison Demo" in html


def test_load_demo_builds_a_lived_in_brand(db, capsys, monkeypatch):
    monkeypatch.delenv("COMPTOIR_DEMO_PASSWORD", raising=False)
    call_command("load_demo")
    output = capsys.readouterr().out
    brand = Brand.objects.get(slug="maison-demo")
    assert brand.name == "Maison Demo"
    assert brand.default_language == "fr"
    roles = {m.user.username: m.role for m in Membership.objects.filter(brand=brand)}
    assert roles == {"camille": Role.ADMIN, "julien": Role.SUPERVISOR, "sophie": Role.AGENT}
    camille = Membership.objects.get(user__username="camille")
    assert camille.user.get_full_name() == "Camille Martin"
    assert camille.user.check_password("demo-comptoir-2026")
    assert Team.objects.get(brand=brand, name="Service client").members.count() == 3
    # The assistant's handoffs have somewhere to go: an advisor, a team per intent.
    lea = Customer.objects.get(brand=brand, display_name="Léa Moreau")
    assert lea.advisor.user.username == "sophie"
    assert brand.assistant_intents.get(name="appointment").team.name == "Boutiques"
    assert "/console/" in output
    assert "demo-comptoir-2026" in output
    key = next(word for word in output.split() if word.startswith("cpt_"))
    assert not ApiToken.objects.filter(key_hash=key).exists(), "the clear key is never stored"
    assert ApiToken.objects.filter(membership=camille).count() == 1

    assert Customer.objects.filter(brand=brand).count() >= 6
    channels_per_customer = [
        set(c.conversations.values_list("messages__channel", flat=True))
        for c in Customer.objects.filter(brand=brand)
    ]
    assert max(len(channels) for channels in channels_per_customer) >= 3
    conversations = Conversation.objects.filter(brand=brand)
    assert conversations.filter(status=Status.RESOLVED).exists()
    assert conversations.filter(status=Status.OPEN, assignee__isnull=True).exists()
    assert conversations.filter(status=Status.OPEN, assignee__isnull=False).exists()
    assert Message.objects.filter(brand=brand, is_internal_note=True).exists()
    # The shop: a location, its services, booked customers, devices with a served visit.
    location = Location.objects.get(brand=brand, name="Boutique Opéra")
    assert set(Service.objects.filter(brand=brand).values_list("name_fr", flat=True)) == {
        "Diagnostic smartphone",
        "Réparation écran",
    }
    assert location.appointments.filter(status=AppointmentStatus.BOOKED).count() == 2
    device = Device.objects.get(brand=brand, serial_number="F2LXK0QJHG7F")
    assert device.customer == lea and device.appointments.count() == 2
    assert device.appointments.filter(outcome="observation").exists()


def test_load_demo_twice_changes_nothing(db, capsys):
    call_command("load_demo")
    first = counts()
    capsys.readouterr()
    call_command("load_demo")
    assert counts() == first
    assert "cpt_" not in capsys.readouterr().out, "an API key is shown only when created"


def test_load_demo_password_comes_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("COMPTOIR_DEMO_PASSWORD", "autre-mot-de-passe-demo")
    call_command("load_demo")
    sophie = Membership.objects.get(user__username="sophie").user
    assert sophie.check_password("autre-mot-de-passe-demo")
