"""``comptoir load_demo``: the "Maison Demo" brand, three agents and a lived-in inbox.

Everything goes through the real actions (ingest, reply, note, assign,
resolve), so the demo shows exactly what production would store. Customer
messages carry fixed external ids: on a second run ``ingest_message`` finds
them and the follow-up steps of that conversation are skipped, so running the
command twice changes nothing.
"""

import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from comptoir.appointments.demo import ensure_demo_appointments
from comptoir.assistant.demo import ensure_demo_assistant
from comptoir.assistant.models import Intent
from comptoir.conversations.actions import add_note, resolve_conversation, send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel
from comptoir.customers.demo import ensure_demo_duplicates
from comptoir.customers.models import Customer, IdentityKind
from comptoir.routing.assignment import assign_conversation
from comptoir.tenancy.models import ApiToken, Brand, Membership, Role, Team
from comptoir.touchpoints.email.demo import DEMO_MAILBOX, ensure_demo_mailbox
from comptoir.touchpoints.messaging.demo import demo_whatsapp_lines, ensure_demo_whatsapp
from comptoir.touchpoints.phone.demo import demo_phone_lines, ensure_demo_phone

DEFAULT_PASSWORD = "demo-comptoir-2026"  # noqa: S105 (documented demo default)
BRAND_SLUG = "maison-demo"
API_TOKEN_NAME = "Demo"  # noqa: S105 (a label, not a secret)

AGENTS = [
    ("camille", "Camille", "Martin", Role.ADMIN),
    ("julien", "Julien", "Bernard", Role.SUPERVISOR),
    ("sophie", "Sophie", "Petit", Role.AGENT),
]


def demo_visitor_id(name: str) -> str:
    """A stable chat visitor id per demo customer, so reruns recognise them."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://comptoir.invalid/demo/{name}").hex


@dataclass
class Step:
    """One thing that happens in a demo conversation, after its customer message."""

    kind: str  # "reply", "note", "assign", "resolve" or "customer"
    agent: str = ""
    text: str = ""
    external_id: str = ""


@dataclass
class DemoConversation:
    channel: str
    external_id: str
    text: str
    identities: list[IdentityClaim]
    display_name: str
    minutes_ago: int = 0  # only for conversations nobody has answered yet
    steps: list[Step] = field(default_factory=list)


def _email(value: str) -> IdentityClaim:
    # The demo's customers have ordered and received mail at these addresses.
    return IdentityClaim(IdentityKind.EMAIL, value, verified=True)


def _phone(value: str) -> IdentityClaim:
    return IdentityClaim(IdentityKind.PHONE, value)


def _visitor(name: str) -> IdentityClaim:
    return IdentityClaim(IdentityKind.CHAT_VISITOR, demo_visitor_id(name), verified=True)


# In order: a customer's later conversations open once the earlier ones are resolved.
CONVERSATIONS = [
    DemoConversation(
        channel=Channel.EMAIL,
        external_id="<demo-lea-1@mail.exemple.fr>",
        text=(
            "Bonjour,\n\nJ'ai reçu ce matin ma commande MD-10482 mais la nappe en lin "
            "est tachée sur un coin. Est-ce possible de l'échanger ?\n\nMerci,\nLéa Moreau"
        ),
        identities=[_email("lea.moreau@exemple.fr")],
        display_name="Léa Moreau",
        steps=[
            Step("assign", "sophie"),
            Step(
                "reply",
                "sophie",
                "Bonjour Léa,\n\nToutes nos excuses pour cette nappe. Nous vous envoyons "
                "aujourd'hui une étiquette de retour gratuite et la nouvelle nappe part dès "
                "réception.\n\nBelle journée,\nSophie",
            ),
            Step("resolve", "sophie"),
        ],
    ),
    DemoConversation(
        channel=Channel.PHONE,
        external_id="demo-call-lea-1",
        text=(
            "Appel entrant : Mme Moreau souhaite savoir si elle peut ajouter deux bols "
            "en grès à l'envoi de remplacement."
        ),
        identities=[_phone("+33 6 12 34 56 78"), _email("lea.moreau@exemple.fr")],
        display_name="Léa Moreau",
        steps=[
            Step("note", "julien", "Cliente fidèle, 5 commandes cette année. Geste accordé."),
            Step(
                "note",
                "julien",
                "Rappelée : les deux bols sont ajoutés au colis, frais de port offerts.",
            ),
            Step("resolve", "julien"),
        ],
    ),
    DemoConversation(
        channel=Channel.WEBCHAT,
        external_id=f"{demo_visitor_id('lea')}:demo-1",
        text="Bonjour, le colis de remplacement est-il parti ? Je n'ai pas reçu de suivi.",
        identities=[_visitor("lea"), _email("lea.moreau@exemple.fr")],
        display_name="Léa Moreau",
        steps=[
            Step("assign", "sophie"),
            Step(
                "reply",
                "sophie",
                "Bonjour Léa ! Il est parti hier avec les deux bols, je vous envoie le lien "
                "de suivi par e-mail dans la minute.",
            ),
            Step(
                "customer",
                text="Super, merci beaucoup !",
                external_id=f"{demo_visitor_id('lea')}:demo-2",
            ),
        ],
    ),
    DemoConversation(
        channel=Channel.WEBCHAT,
        external_id=f"{demo_visitor_id('thomas')}:demo-1",
        text="Bonjour, est-ce que la cafetière émaillée passe sur une plaque à induction ?",
        identities=[_visitor("thomas")],
        display_name="Thomas Lefèvre",
        minutes_ago=12,
    ),
    DemoConversation(
        channel=Channel.EMAIL,
        external_id="<demo-chloe-1@mail.exemple.fr>",
        text=(
            "Bonjour,\n\nPourriez-vous m'envoyer la facture de la commande MD-10511 au nom "
            "de mon entreprise (Atelier Dubois) ?\n\nCordialement,\nChloé Dubois"
        ),
        identities=[_email("chloe.dubois@atelier-dubois.fr")],
        display_name="Chloé Dubois",
        minutes_ago=95,
    ),
    DemoConversation(
        channel=Channel.PHONE,
        external_id="demo-call-hugo-1",
        text=(
            "Appel entrant : M. Laurent n'arrive pas à utiliser son code de réduction "
            "PRINTEMPS10 sur le site."
        ),
        identities=[_phone("+33 7 81 22 45 90"), _email("hugo.laurent@exemple.com")],
        display_name="Hugo Laurent",
        steps=[
            Step("assign", "julien"),
            Step(
                "note", "julien", "Le code a expiré le 31 mars ; voir avec Camille pour un geste."
            ),
        ],
    ),
    DemoConversation(
        channel=Channel.WEBCHAT,
        external_id=f"{demo_visitor_id('manon')}:demo-1",
        text="Bonsoir, quel est le délai de livraison pour Lyon ?",
        identities=[_visitor("manon")],
        display_name="Manon Girard",
        steps=[
            Step(
                "reply",
                "camille",
                "Bonsoir Manon, comptez 48 heures en point relais et 24 heures en express.",
            ),
            Step("customer", text="Parfait, merci !", external_id=f"{demo_visitor_id('manon')}:2"),
            Step("resolve", "camille"),
        ],
    ),
    DemoConversation(
        channel=Channel.EMAIL,
        external_id="<demo-nicolas-1@mail.exemple.fr>",
        text=(
            "Bonjour,\n\nJe voudrais retourner la serviette de plage rayée, la couleur ne "
            "correspond pas à la photo. Comment dois-je faire ?\n\nNicolas Roux"
        ),
        identities=[_email("nicolas.roux@exemple.org")],
        display_name="Nicolas Roux",
        steps=[
            Step("assign", "camille"),
            Step(
                "reply",
                "camille",
                "Bonjour Nicolas,\n\nVous pouvez la déposer dans n'importe quel point relais "
                "avec l'étiquette jointe ; le remboursement suit sous 5 jours.\n\nCamille",
            ),
            Step(
                "customer",
                text="Merci, c'est déposé. Pouvez-vous me confirmer la réception ?",
                external_id="<demo-nicolas-2@mail.exemple.fr>",
            ),
        ],
    ),
]


class Command(BaseCommand):
    help = "Create (idempotently) the Maison Demo brand, its agents and sample conversations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where Comptoir is served, for the printed links.",
        )
        parser.add_argument(
            "--smtp",
            default="127.0.0.1:2525",
            help="Where `comptoir serve --smtp` receives mail, for the printed line.",
        )

    def handle(self, *args, base_url: str, smtp: str, **options) -> None:
        password = os.environ.get("COMPTOIR_DEMO_PASSWORD") or DEFAULT_PASSWORD
        with transaction.atomic():
            brand, _ = Brand.objects.get_or_create(
                slug=BRAND_SLUG, defaults={"name": "Maison Demo", "default_language": "fr"}
            )
            agents = self._agents(brand, password)
            # Customer service gives its handoffs to its least busy available member
            # (Team.auto_assign, also on a demo loaded before it existed); the shops'
            # team (``_routing``) lets them wait in its queue.
            team, _ = Team.objects.update_or_create(
                brand=brand, name="Service client", defaults={"auto_assign": True}
            )
            team.members.add(*agents.values())
            ensure_demo_mailbox(brand)
            whatsapp = ensure_demo_whatsapp(brand)
            api_key = self._api_key(agents["camille"])
        created = sum(self._play(brand, agents, conversation) for conversation in CONVERSATIONS)
        ensure_demo_phone(brand, agents)
        ensure_demo_duplicates(brand)
        # After the sample conversations, so that the assistant does not answer them.
        ensure_demo_assistant(brand, base_url)
        self._routing(brand, agents, team)
        ensure_demo_appointments(brand, agents, Team.objects.get(brand=brand, name="Boutiques"))

        base_url = base_url.rstrip("/")
        self.stdout.write(
            self.style.SUCCESS(f"Brand “{brand.name}” ready ({created} new conversations).")
        )
        self.stdout.write(f"Console:   {base_url}/console/")
        self.stdout.write(f"Demo shop: {base_url}/demo/")
        self.stdout.write(f"Mail:      write to {DEMO_MAILBOX} (SMTP {smtp})")
        for line in demo_whatsapp_lines(base_url, whatsapp):
            self.stdout.write(line)
        for line in demo_phone_lines(base_url):
            self.stdout.write(line)
        for username, first_name, last_name, role in AGENTS:
            self.stdout.write(
                f"  {username:<8} {password}   ({first_name} {last_name}, {Role(role).label})"
            )
        if api_key:
            self.stdout.write(f"API token for camille (shown once, not stored): {api_key}")

    def _agents(self, brand: Brand, password: str) -> dict[str, Membership]:
        users = get_user_model().objects
        agents = {}
        for username, first_name, last_name, role in AGENTS:
            user, created = users.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@maison-demo.invalid",
                },
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            agents[username], _ = Membership.objects.get_or_create(
                user=user, brand=brand, defaults={"role": role}
            )
        return agents

    def _routing(self, brand: Brand, agents: dict[str, Membership], service: Team) -> None:
        """Where the assistant's handoffs go: Léa to her advisor Sophie, appointments
        to the shops' team (Julien's "My teams"), complaints to customer service (its
        least busy available member)."""
        shops, _ = Team.objects.get_or_create(brand=brand, name="Boutiques")
        shops.members.add(agents["julien"])
        Intent.objects.filter(brand=brand, name="appointment").update(team=shops)
        Intent.objects.filter(brand=brand, name="complaint").update(team=service)
        Customer.objects.filter(
            brand=brand,
            identities__kind=IdentityKind.EMAIL,
            identities__value="lea.moreau@exemple.fr",
        ).update(advisor=agents["sophie"])

    def _api_key(self, membership: Membership) -> str | None:
        if ApiToken.objects.filter(
            membership=membership, name=API_TOKEN_NAME, revoked_at__isnull=True
        ).exists():
            return None
        _, key = ApiToken.issue(membership, API_TOKEN_NAME)
        return key

    def _play(self, brand: Brand, agents: dict[str, Membership], demo: DemoConversation) -> bool:
        """Ingest the conversation's first message and, only if it is new, play the rest."""
        received_at = (
            timezone.now() - timedelta(minutes=demo.minutes_ago) if demo.minutes_ago else None
        )
        result = ingest_message(
            InboundMessage(
                brand=brand,
                channel=demo.channel,
                external_id=demo.external_id,
                text=demo.text,
                identities=demo.identities,
                display_name=demo.display_name,
                language="fr",
                received_at=received_at,
            )
        )
        if not result.created:
            return False
        conversation = result.message.conversation
        for step in demo.steps:
            agent = agents.get(step.agent)
            if step.kind == "assign":
                assign_conversation(agent, conversation, agent)
            elif step.kind == "reply":
                send_reply(agent, conversation, step.text)
            elif step.kind == "note":
                add_note(agent, conversation, step.text)
            elif step.kind == "resolve":
                resolve_conversation(agent, conversation)
            elif step.kind == "customer":
                ingest_message(
                    InboundMessage(
                        brand=brand,
                        channel=demo.channel,
                        external_id=step.external_id,
                        text=step.text,
                        identities=demo.identities,
                        display_name=demo.display_name,
                        language="fr",
                    )
                )
        return True
