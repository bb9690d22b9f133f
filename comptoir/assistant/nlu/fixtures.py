"""Bilingual training phrases: the demo brand's intents and generic out-of-scope messages.

``DEMO_INTENTS`` seeds the demo brand (``comptoir.assistant.demo``) and the NLU
tests; ``GENERIC_OUT_OF_SCOPE`` teaches every brand's classifier what is *not* a
customer-service request (small talk, unrelated questions), so that such
messages go to a human or get a polite "I did not understand" instead of a
confident wrong answer.
"""

DEMO_INTENTS: list[dict] = [
    {
        "name": "order_tracking",
        "label": "Suivi de commande",
        "fr": [
            "où est ma commande",
            "je voudrais suivre ma commande",
            "quel est le statut de ma commande 12345",
            "ma commande a-t-elle été expédiée ?",
            "pouvez-vous me donner le numéro de suivi de mon colis",
            "je n'arrive pas à suivre mon colis",
            "où en est ma commande passée la semaine dernière",
            "comment savoir où se trouve mon colis",
        ],
        "en": [
            "where is my order",
            "I want to track my order",
            "what is the status of order 12345",
            "has my order shipped yet?",
            "can you give me the tracking number for my parcel",
            "I can't track my package",
            "where is the order I placed last week",
            "how do I know where my parcel is",
        ],
    },
    {
        "name": "delivery_delay",
        "label": "Retard de livraison",
        "fr": [
            "ma livraison est en retard",
            "je n'ai toujours pas reçu mon colis",
            "le colis devait arriver hier et rien",
            "pourquoi ma livraison prend autant de temps",
            "ça fait deux semaines que j'attends ma commande",
            "le livreur n'est jamais passé",
            "la date de livraison est dépassée",
        ],
        "en": [
            "my delivery is late",
            "I still haven't received my parcel",
            "the package was supposed to arrive yesterday",
            "why is my delivery taking so long",
            "I've been waiting two weeks for my order",
            "the courier never came",
            "the delivery date has passed",
        ],
    },
    {
        "name": "returns_refunds",
        "label": "Retours et remboursements",
        "fr": [
            "je voudrais retourner un article",
            "comment me faire rembourser",
            "je veux renvoyer ma commande",
            "quand serai-je remboursé ?",
            "l'article ne me va pas, puis-je l'échanger",
            "quelle est votre politique de retour",
            "j'ai renvoyé le produit mais pas de remboursement",
        ],
        "en": [
            "I would like to return an item",
            "how do I get a refund",
            "I want to send my order back",
            "when will I be refunded?",
            "the item doesn't fit, can I exchange it",
            "what is your return policy",
            "I sent the product back but got no refund",
        ],
    },
    {
        "name": "open_account",
        "label": "Ouverture de compte",
        "fr": [
            "je voudrais ouvrir un compte",
            "comment créer un compte client",
            "je souhaite m'inscrire",
            "comment devenir client chez vous",
            "créer mon espace client",
            "je n'ai pas encore de compte, comment faire",
        ],
        "en": [
            "I would like to open an account",
            "how do I create a customer account",
            "I want to sign up",
            "how do I become a customer",
            "create my customer area",
            "I don't have an account yet, how do I get one",
        ],
    },
    {
        "name": "opening_hours",
        "label": "Horaires et magasins",
        "fr": [
            "quels sont vos horaires d'ouverture",
            "à quelle heure ouvre le magasin",
            "êtes-vous ouverts le dimanche",
            "où se trouve votre boutique la plus proche",
            "adresse du magasin de Lyon",
            "le magasin de Paris est-il ouvert aujourd'hui",
            "jusqu'à quelle heure êtes-vous ouverts",
        ],
        "en": [
            "what are your opening hours",
            "what time does the store open",
            "are you open on Sunday",
            "where is your nearest shop",
            "address of the Lyon store",
            "is the Paris shop open today",
            "until what time are you open",
        ],
    },
    {
        "name": "appointment",
        "label": "Prise de rendez-vous",
        "fr": [
            "je voudrais prendre rendez-vous",
            "puis-je réserver un créneau en boutique",
            "prendre un rendez-vous avec un conseiller en magasin",
            "je souhaite un rendez-vous jeudi après-midi",
            "comment réserver une séance d'essayage",
            "déplacer mon rendez-vous",
        ],
        "en": [
            "I would like to book an appointment",
            "can I book a slot in the shop",
            "make an appointment with an adviser in store",
            "I'd like an appointment on Thursday afternoon",
            "how do I book a fitting session",
            "reschedule my appointment",
        ],
    },
    {
        "name": "talk_to_human",
        "label": "Parler à un conseiller",
        "fr": [
            "je veux parler à un conseiller",
            "passez-moi un humain",
            "je voudrais parler à quelqu'un",
            "un agent s'il vous plaît",
            "mettez-moi en relation avec une vraie personne",
            "je ne veux pas parler à un robot",
            "conseiller",
        ],
        "en": [
            "I want to talk to an agent",
            "let me speak to a human",
            "I'd like to talk to someone",
            "a real person please",
            "connect me with a representative",
            "I don't want to talk to a bot",
            "agent",
        ],
    },
    {
        "name": "complaint",
        "label": "Réclamation",
        "fr": [
            "je veux faire une réclamation",
            "je suis très mécontent de votre service",
            "le produit est arrivé cassé",
            "je souhaite porter plainte",
            "votre service client est lamentable",
            "l'article reçu est défectueux",
        ],
        "en": [
            "I want to make a complaint",
            "I am very unhappy with your service",
            "the product arrived broken",
            "I wish to file a complaint",
            "your customer service is terrible",
            "the item I received is faulty",
        ],
    },
]


def demo_examples() -> list[tuple[str, str]]:
    """``DEMO_INTENTS`` as (text, intent) pairs, both languages."""
    return [
        (phrase, spec["name"])
        for spec in DEMO_INTENTS
        for language in ("fr", "en")
        for phrase in spec[language]
    ]


GENERIC_OUT_OF_SCOPE: list[str] = [
    "quel temps fera-t-il demain",
    "raconte-moi une blague",
    "qui a gagné le match hier soir",
    "quelle est la capitale de l'Australie",
    "combien font 12 fois 7",
    "donne-moi une recette de crêpes",
    "quel âge as-tu",
    "tu aimes la musique ?",
    "traduis bonjour en espagnol",
    "quelle heure est-il à Tokyo",
    "mets un minuteur de dix minutes",
    "qui est le président des États-Unis",
    "recommande-moi un bon film",
    "comment dit-on merci en japonais",
    "quelle est la distance entre la Terre et la Lune",
    "j'ai besoin d'un plombier",
    "comment changer une roue de vélo",
    "quel est le sens de la vie",
    "écris-moi un poème",
    "combien de calories dans une pomme",
    "what's the weather like tomorrow",
    "tell me a joke",
    "who won the game last night",
    "what is the capital of Australia",
    "what is 12 times 7",
    "give me a pancake recipe",
    "how old are you",
    "do you like music?",
    "translate hello into Spanish",
    "what time is it in Tokyo",
    "set a timer for ten minutes",
    "who is the president of the United States",
    "recommend me a good movie",
    "how do you say thank you in Japanese",
    "how far is the moon from the earth",
    "I need a plumber",
    "how do I fix a flat bike tyre",
    "what is the meaning of life",
    "write me a poem",
    "how many calories are in an apple",
    "play some jazz",
    "what's the best pizza topping",
    "how do I learn to play guitar",
    "when is the next full moon",
    "book me a flight to New York",
    "quelle est la meilleure garniture de pizza",
    "comment apprendre la guitare",
    "réserve-moi un vol pour New York",
]
