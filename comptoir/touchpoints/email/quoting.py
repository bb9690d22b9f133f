"""Separating what a customer just wrote from the history their mail client quoted.

Only a display aid: the console shows the new part and folds the rest behind a
toggle, while the full body is always stored. When in doubt we fold less, so a
customer's words are never hidden by a false positive.
"""

import re

# A line that starts the quoted history: everything from it on is folded.
_HISTORY_STARTS = [
    # Gmail/Apple/Thunderbird: "On Tue, 3 Mar 2026 at 10:00, Ana <a@b.c> wrote:"
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE),
    # French clients: "Le mar. 3 mars 2026 à 10:00, Ana <a@b.c> a écrit :"
    re.compile(r"^\s*Le\b.{0,300}\ba\s+[ée]crit\s*:\s*$", re.IGNORECASE),
    # German and Spanish, cheap to include.
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,100}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*El\b.{0,300}\bescribi[óo]\s*:\s*$", re.IGNORECASE),
    # Outlook plain text.
    re.compile(r"^\s*-{2,}\s*(Original Message|Message d'origine)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(Forwarded message|Message transféré)\s*-{2,}\s*$", re.I),
    re.compile(r"^_{10,}\s*$"),
]
# Outlook's header block ("From: …" / "De : …" followed by Sent/Envoyé within a few lines).
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De)\s*\*?\s*:\s*\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(Sent|Date|Envoyé|To|À|A|Subject|Objet|Cc)\s*\*?\s*:", re.IGNORECASE
)
_SIGNATURE = "-- "


def fold_quoted_history(text: str) -> tuple[str, str]:
    """Split a reply into ``(new_part, folded_history)``; ``new + history`` keeps every line.

    The history starts at the first of: a "wrote:" header line (EN/FR/DE/ES,
    possibly wrapped over two lines), an Outlook "Original Message" separator or
    "From:/De :" header block, the "-- " signature delimiter, or a run of
    ``>``-quoted lines that is not followed by more unquoted text.
    """
    lines = text.split("\n")
    cut = _history_start(lines)
    if cut is None or not "\n".join(lines[:cut]).strip():
        # Nothing before the history: showing nothing would hide the whole mail.
        return text.rstrip(), ""
    new_part = "\n".join(lines[:cut]).rstrip()
    history = "\n".join(lines[cut:]).strip("\n")
    return new_part, history


def _history_start(lines: list[str]) -> int | None:
    only_quotes_follow = _only_quotes_follow_table(lines)
    for index, line in enumerate(lines):
        bare = line.rstrip("\r")
        if bare == _SIGNATURE or bare == "--":
            return index
        if any(pattern.match(bare) for pattern in _HISTORY_STARTS):
            return index
        # "On Tue, 3 Mar 2026, Ana Long-Name <ana@example.com>\nwrote:" wrapped by the client.
        if index + 1 < len(lines):
            joined = f"{bare.strip()} {lines[index + 1].strip()}"
            if re.match(r"^(On|Le)\b", bare.strip()) and any(
                pattern.match(joined) for pattern in _HISTORY_STARTS[:2]
            ):
                return index
        if _OUTLOOK_FROM.match(bare) and _looks_like_outlook_block(lines, index):
            return index
        if bare.lstrip().startswith(">") and only_quotes_follow[index]:
            return index
    return None


def _looks_like_outlook_block(lines: list[str], index: int) -> bool:
    following = [line for line in lines[index + 1 : index + 5] if line.strip()]
    return sum(1 for line in following if _OUTLOOK_NEXT.match(line)) >= 2


def _only_quotes_follow_table(lines: list[str]) -> list[bool]:
    """For every line: whether only quoted or blank lines follow it (then a signature at most).

    Quoted lines count as history only when no new (unquoted) text follows them:
    interleaved replies ("> question" / answer / "> question" / answer) keep
    everything visible, since the answers only make sense next to the quotes.
    One backward pass: asking line by line rescanned the rest of the mail for
    each quoted line, quadratic, and the fold runs on every console render.
    """
    table = [True] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            table[index] = table[index + 1]
        else:
            # A signature after the quotes does not count as new text.
            table[index] = stripped == "--" or line.rstrip("\r") == _SIGNATURE
    return table
