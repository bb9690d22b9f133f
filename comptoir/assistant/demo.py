"""The demo brand's assistant: intents from the NLU fixture, answers, articles, an order endpoint.

The order-status action calls the pretend brand system that Comptoir itself
serves at ``/demo/api/orders/<number>`` (``views.demo_order``). It runs on
127.0.0.1, so the demo brand — and only it — allows private addresses.
"""

from comptoir.assistant.configure import request_training
from comptoir.assistant.models import AssistantSettings, Intent, KnowledgeArticle
from comptoir.tenancy.models import Brand

# How each demo intent is answered: (automatable, action, answer_fr, answer_en).
# An empty answer on an automatable intent means "the best knowledge-base passage".
ANSWERS: dict[str, tuple[bool, str, str, str]] = {
    "order_tracking": (
        True,
        "order_status",
        "Votre commande {order_number} est {status}. Livraison prévue le "
        "{expected_delivery} avec {carrier}. Suivi : {tracking_url}",
        "Your order {order_number} is {status}. Expected delivery on {expected_delivery} "
        "with {carrier}. Tracking: {tracking_url}",
    ),
    "delivery_delay": (True, "", "", ""),
    "returns_refunds": (True, "", "", ""),
    "open_account": (
        True,
        "",
        "Pour créer votre compte, cliquez sur « Mon compte » en haut de la boutique puis "
        "« Créer un compte » : il suffit d'une adresse e-mail et d'un mot de passe.",
        "To open an account, click “My account” at the top of the shop, then “Create an "
        "account”: an e-mail address and a password are all it takes.",
    ),
    "opening_hours": (True, "", "", ""),
    "appointment": (True, "book_appointment", "", ""),
    "talk_to_human": (False, "handoff", "", ""),
    "complaint": (False, "", "", ""),
}

ARTICLES = [
    (
        "fr",
        "Livraison",
        "## Délais de livraison\n\nLes commandes partent sous 24 h ouvrées. La livraison "
        "Colissimo prend 2 à 4 jours ouvrés en France métropolitaine, 5 à 8 jours en Europe."
        "\n\n## Retard de livraison\n\nSi votre colis a plus de 3 jours de retard sur la date "
        "annoncée, le suivi Colissimo indique où il se trouve ; au-delà de 7 jours, nous "
        "renvoyons la commande à nos frais.",
    ),
    (
        "en",
        "Delivery",
        "## Delivery times\n\nOrders leave within one working day. Colissimo delivery takes "
        "2 to 4 working days in mainland France, 5 to 8 days in Europe.\n\n## Late delivery"
        "\n\nIf your parcel is more than 3 days late, the Colissimo tracking shows where it "
        "is; after 7 days we send the order again at our expense.",
    ),
    (
        "fr",
        "Retours et remboursements",
        "## Retours\n\nVous avez 30 jours après réception pour nous retourner un article, "
        "avec l'étiquette de retour gratuite disponible dans « Mon compte ».\n\n"
        "## Remboursements\n\nLe remboursement est fait sous 5 jours ouvrés après réception "
        "du retour, sur le moyen de paiement utilisé pour la commande.",
    ),
    (
        "en",
        "Returns and refunds",
        "## Returns\n\nYou have 30 days after delivery to return an item, with the free "
        "return label available in “My account”.\n\n## Refunds\n\nThe refund is made within "
        "5 working days after we receive the return, on the payment method of the order.",
    ),
    (
        "fr",
        "Horaires et boutiques",
        "## Horaires d'ouverture\n\nNos boutiques de Paris (12 rue des Arts) et de Lyon "
        "(4 place Bellecour) sont ouvertes du lundi au samedi de 10 h à 19 h, le dimanche "
        "de 11 h à 18 h en décembre.\n\n## Service client\n\nLe service client répond du "
        "lundi au vendredi de 9 h à 18 h.",
    ),
    (
        "en",
        "Opening hours and shops",
        "## Opening hours\n\nOur shops in Paris (12 rue des Arts) and Lyon (4 place "
        "Bellecour) are open Monday to Saturday, 10 am to 7 pm, and on Sundays 11 am to 6 pm "
        "in December.\n\n## Customer service\n\nCustomer service answers Monday to Friday, "
        "9 am to 6 pm.",
    ),
]


def demo_intents() -> list[dict]:
    """The NLU fixture's demo intents as {name, label, fr: [...], en: [...]}."""
    from comptoir.assistant.nlu.fixtures import DEMO_INTENTS

    return list(DEMO_INTENTS)


def ensure_demo_assistant(brand: Brand, base_url: str) -> AssistantSettings:
    """Create or update the demo assistant (idempotent) and switch it on."""
    for spec in demo_intents():
        automatable, action, answer_fr, answer_en = ANSWERS.get(spec["name"], (False, "", "", ""))
        Intent.objects.update_or_create(
            brand=brand,
            name=spec["name"],
            defaults={
                "label": spec.get("label") or spec["name"],
                "training_phrases_fr": list(spec.get("fr", [])),
                "training_phrases_en": list(spec.get("en", [])),
                "automatable": automatable,
                "action": action,
                "answer_fr": answer_fr,
                "answer_en": answer_en,
            },
        )
    for language, title, body in ARTICLES:
        KnowledgeArticle.objects.update_or_create(
            brand=brand, language=language, title=title, defaults={"body": body}
        )
    # The training job is queued before any message's: the worker trains the model
    # (seconds) first, so nothing is answered untrained.
    request_training(brand.pk)
    settings, _ = AssistantSettings.objects.update_or_create(
        brand=brand,
        defaults={
            "enabled": True,
            "action_base_url": f"{base_url.rstrip('/')}/demo/api",
            # The pretend brand system is Comptoir itself, on 127.0.0.1: the operator allows
            # that origin (ASSISTANT_PRIVATE_ORIGINS, set by `make demo`); the brand's
            # administrator never gets to aim the assistant at private addresses.
            "allow_private_addresses": False,
            # Web chat only: the e-mail and WhatsApp walkthroughs stay with people.
            "answer_channels": ["webchat"],
        },
    )
    return settings
