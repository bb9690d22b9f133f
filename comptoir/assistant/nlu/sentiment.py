"""Sentiment and anger of a customer message, French and English, offline.

English: VADER's lexicon and rules (``vaderSentiment``, shipped in the wheel).
French: the same VADER rules over a small hand-made lexicon of the words customers
use when unhappy (and pleased), since lexicon-only French tools miss
customer-service anger ("inadmissible", "scandaleux", "honteux"). On top of
both, the signs of shouting that no lexicon sees: a message mostly in capitals,
repeated "!!!" or "?!".

``is_angry`` is what triggers a handoff to a human: it errs on the side of the
customer (a false alarm costs an agent a minute; a missed angry customer costs
the customer).
"""

import re
from functools import cache

ANGER_THRESHOLD = -0.35

# Strong anger markers: any one of them is enough, whatever the rest says.
_ANGRY_FR = (
    "inadmissible",
    "inacceptable",
    "scandale",
    "scandaleux",
    "scandaleuse",
    "honteux",
    "honteuse",
    "honte",
    "lamentable",
    "déplorable",
    "deplorable",
    "n'importe quoi",
    "ras le bol",
    "ras-le-bol",
    "marre",
    "furieux",
    "furieuse",
    "en colère",
    "en colere",
    "arnaque",
    "escroc",
    "escroquerie",
    "voleurs",
    "nul",
    "nuls",
    "catastrophe",
    "inadmissibles",
    "pire service",
    "jamais plus",
    "plus jamais",
    "porter plainte",
    "c'est une blague",
    "foutez",
    "foutre",
    "merde",
    "putain",
    "exaspéré",
    "exaspérée",
    "exaspere",
    "excédé",
    "excédée",
    "incompétents",
    "incompetents",
    "incompétent",
    "honteusement",
    "inqualifiable",
    "intolérable",
    "intolerable",
    "insupportable",
)
_ANGRY_EN = (
    "ridiculous",
    "unacceptable",
    "outrageous",
    "disgrace",
    "disgraceful",
    "disgusting",
    "scam",
    "rip off",
    "ripoff",
    "rip-off",
    "furious",
    "livid",
    "fed up",
    "sick of",
    "worst",
    "terrible",
    "awful",
    "useless",
    "pathetic",
    "incompetent",
    "is this a joke",
    "never again",
    "shameful",
    "appalling",
    "horrible",
    "angry",
    "fuming",
    "wtf",
    "damn",
    "crap",
    "shit",
    "fuck",
    "fucking",
    "sue you",
    "lawyer",
    "complaint",
)

# A French VADER-style lexicon (valence -4..4) for what the anger list does not cover.
_FR_LEXICON = {
    "merci": 1.5,
    "super": 2.0,
    "parfait": 2.5,
    "génial": 2.5,
    "genial": 2.5,
    "excellent": 3.0,
    "content": 1.8,
    "contente": 1.8,
    "ravi": 2.5,
    "ravie": 2.5,
    "top": 2.0,
    "bravo": 2.5,
    "efficace": 1.8,
    "rapide": 1.0,
    "bien": 1.0,
    "satisfait": 2.0,
    "satisfaite": 2.0,
    "adorable": 2.0,
    "formidable": 3.0,
    "mécontent": -2.5,
    "mecontent": -2.5,
    "mécontente": -2.5,
    "déçu": -2.0,
    "deçu": -2.0,
    "déçue": -2.0,
    "decu": -2.0,
    "decue": -2.0,
    "déception": -2.2,
    "deception": -2.2,
    "problème": -1.0,
    "probleme": -1.0,
    "retard": -1.2,
    "cassé": -1.5,
    "casse": -1.2,
    "abîmé": -1.5,
    "abime": -1.5,
    "défectueux": -1.8,
    "defectueux": -1.8,
    "mauvais": -2.0,
    "mauvaise": -2.0,
    "horrible": -3.0,
    "nul": -2.5,
    "nulle": -2.5,
    "inadmissible": -3.2,
    "inacceptable": -3.0,
    "scandaleux": -3.2,
    "scandale": -3.0,
    "honteux": -3.0,
    "honte": -2.5,
    "lamentable": -3.0,
    "catastrophe": -2.8,
    "arnaque": -3.2,
    "voleurs": -3.0,
    "furieux": -3.2,
    "furieuse": -3.2,
    "colère": -2.8,
    "colere": -2.8,
    "marre": -2.5,
    "jamais": -0.5,
    "pire": -2.8,
    "énervé": -2.5,
    "enervé": -2.5,
    "enerve": -2.5,
    "énervée": -2.5,
    "agacé": -2.0,
    "agace": -2.0,
    "inquiet": -1.2,
    "inquiète": -1.2,
    "perdu": -1.0,
    "rien": -0.5,
    "toujours": -0.2,
    "remboursez": -1.5,
    "insupportable": -3.0,
    "plainte": -2.0,
    "incompétents": -2.8,
}
_FR_NEGATIONS = ("ne", "n'", "pas", "jamais", "aucun", "aucune", "sans")
_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{2,}\b")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _vader_fr():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon = dict(_FR_LEXICON)
    return analyzer


def _shouting(text: str) -> float:
    """0..1: how much the message shouts (capitals, repeated ! or ?!)."""
    score = 0.0
    letters = _LETTERS.findall(text)
    uppercase = sum(1 for c in letters if c.isupper())
    if len(letters) >= 8 and uppercase / len(letters) > 0.7:
        score += 0.6
    elif len(_CAPS_WORD.findall(text)) >= 2:
        score += 0.2
    if re.search(r"!{3,}|(\?!|!\?){2,}", text):
        score += 0.6
    elif re.search(r"!{2,}|\?!|!\?", text):
        score += 0.4
    return min(score, 1.0)


def _markers(text: str, language: str) -> int:
    lowered = " " + text.lower().replace("\u2019", "'") + " "
    markers = (
        _ANGRY_FR + _ANGRY_EN
        if language not in ("fr", "en")
        else (_ANGRY_FR if language == "fr" else _ANGRY_EN)
    )
    return sum(1 for m in markers if re.search(rf"(?<![\w]){re.escape(m)}(?![\w])", lowered))


def sentiment(text: str, language: str) -> float:
    """Polarity in -1..1 (VADER compound); shouting pulls a neutral or negative text lower."""
    if not text.strip():
        return 0.0
    analyzer = _vader_fr() if language == "fr" else _vader()
    # VADER's own caps emphasis needs mixed case; the lexicons are lower case.
    compound = analyzer.polarity_scores(text if language != "fr" else text.lower())["compound"]
    if _markers(text, language):
        compound = min(compound, -0.5)
    if compound < 0.05:  # shouting makes a neutral or negative message negative
        compound -= 0.5 * _shouting(text)
    return max(-1.0, min(1.0, compound))


def is_angry(text: str, language: str) -> bool:
    """True for a negative or angry message: a strong marker, shouting, or low polarity."""
    if not text.strip():
        return False
    if _markers(text, language):
        return True
    if _shouting(text) >= 0.6:
        return True
    return sentiment(text, language) <= ANGER_THRESHOLD
