"""Knowledge-base passages: a brand's published articles split into paragraphs, ranked with BM25.

BM25 over a brand's few hundred paragraphs takes well under a millisecond and
needs no model; it finds the paragraph that shares the customer's rare words
("remboursement", "horaires"), which is what a passage answer needs.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from comptoir.assistant.models import KnowledgeArticle
from comptoir.assistant.rules import fold

# Passages below this BM25 score share too little with the question to be an answer.
MIN_PASSAGE_SCORE = 1.0

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about the topic, in both languages.
_STOP = set(
    """le la les un une des du de d l a au aux et ou en dans sur pour par avec est sont je j me
    m mon ma mes vous votre vos nous notre il elle on ce c ca cette ces qui que qu quoi ne pas
    plus se s y the a an of to in on for is are be i my me you your we our it this that and or
    what how when where do does can could would with at from have has""".split()  # noqa: SIM905
)


def tokens(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(fold(text)):
        if word in _STOP:
            continue
        # A crude stem, enough to match "livraisons" with "livraison", "orders" with "order".
        if len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        words.append(word)
    return words


@dataclass(frozen=True)
class Passage:
    article_id: int
    title: str
    text: str
    score: float


def split_passages(body: str) -> list[str]:
    """Paragraphs of a Markdown body, headings folded into the paragraph that follows."""
    passages, heading = [], ""
    for block in re.split(r"\n\s*\n", body.strip()):
        block = block.strip()
        if not block:
            continue
        if block.startswith("#") and "\n" not in block:
            heading = block.lstrip("#").strip()
            continue
        passages.append(f"{heading}\n{block}" if heading else block)
        heading = ""
    return passages


def rank_passages(
    query: str, articles: list[tuple[int, str, str]], limit: int = 3
) -> list[Passage]:
    """The best ``limit`` passages of ``articles`` (id, title, body) for ``query``, best first."""
    query_terms = set(tokens(query))
    if not query_terms:
        return []
    docs = []
    for article_id, title, body in articles:
        for passage in split_passages(body):
            docs.append((article_id, title, passage, tokens(f"{title} {passage}")))
    if not docs:
        return []
    k1, b = 1.5, 0.75
    average = sum(len(d[3]) for d in docs) / len(docs)
    frequency = Counter(term for d in docs for term in set(d[3]))
    ranked = []
    for article_id, title, passage, words in docs:
        counts = Counter(words)
        score = 0.0
        for term in query_terms:
            tf = counts.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (len(docs) - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(words) / average))
        if score > 0:
            ranked.append(Passage(article_id, title, _strip_markdown(passage), score))
    ranked.sort(key=lambda p: -p.score)
    return ranked[:limit]


def best_passage(brand_id: int, language: str, text: str) -> str | None:
    """The one passage good enough to answer ``text`` with, if any."""
    passages = top_passages(brand_id, language, text, limit=1)
    if passages and passages[0].score >= MIN_PASSAGE_SCORE:
        return passages[0].text
    return None


def top_passages(brand_id: int, language: str, text: str, limit: int = 3) -> list[Passage]:
    """The best passages of the brand's published articles in ``language``, best first."""
    articles = list(
        KnowledgeArticle.objects.filter(
            brand_id=brand_id, language=language, published=True
        ).values_list("pk", "title", "body")
    )
    return rank_passages(text, articles, limit=limit)


def _strip_markdown(text: str) -> str:
    """Passages go out as plain text (chat, SMS-like channels): drop the Markdown marks."""
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    text = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", text)
    return re.sub(r"^\s*[-*]\s+", "• ", text, flags=re.MULTILINE).strip()
