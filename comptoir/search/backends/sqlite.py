"""SQLite: FTS5 tables (``search.ddl``) on messages, subjects and customers.

Every word is a prefix (``colis`` finds ``colissimo``; ``rembourse`` finds
``remboursement``), all words must appear, accents and case are folded by the
tokenizer. Names and identities are words of the customer's row
(``jean.dupont@exemple.fr`` is the phrase ``jean dupont exemple fr``; a phone
``+33612345678`` the word ``33612345678``); exact normalised identities are
looked up as on PostgreSQL. There is no typo tolerance on SQLite.
"""

from comptoir.search.highlight import START, STOP
from comptoir.search.terms import SearchTerms

_MESSAGES = """
SELECT m.conversation_id FROM search_message_fts f
  JOIN conversations_message m ON m.id = f.rowid
 WHERE search_message_fts MATCH %s AND m.brand_id = %s"""

_SUBJECTS = """
SELECT v.id FROM search_subject_fts f
  JOIN conversations_conversation v ON v.id = f.rowid
 WHERE search_subject_fts MATCH %s AND v.brand_id = %s"""

_CUSTOMERS = """
SELECT v.id FROM search_customer_fts f
  JOIN conversations_conversation v ON v.customer_id = f.rowid
 WHERE search_customer_fts MATCH %s AND v.brand_id = %s"""

_IDENTITIES = """
SELECT v.id FROM conversations_conversation v
  JOIN customers_identity i ON i.customer_id = v.customer_id
 WHERE i.brand_id = %s AND ({pairs})"""

_SNIPPETS = """
SELECT m.conversation_id, snippet(search_message_fts, 0, %s, %s, '…', 24)
  FROM search_message_fts f
  JOIN conversations_message m ON m.id = f.rowid
 WHERE search_message_fts MATCH %s AND m.brand_id = %s AND m.conversation_id IN ({ids})
 ORDER BY m.created_at, m.id"""


def fts_query(terms: SearchTerms) -> str | None:
    """Every word as a quoted prefix (``"colis"*``): nothing typed is read as FTS5 syntax."""
    words = terms.words
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


def matching_conversations(brand_id: int, terms: SearchTerms) -> tuple[str, list]:
    """SQL selecting the ids of the brand's conversations ``terms`` find, and its parameters."""
    parts: list[str] = []
    params: list = []
    query = fts_query(terms)
    if query:
        parts += [_MESSAGES, _SUBJECTS, _CUSTOMERS]
        params += [query, brand_id, query, brand_id, query, brand_id]
    if terms.identities:
        pairs = " OR ".join(["(i.kind = %s AND i.value = %s)"] * len(terms.identities))
        parts.append(_IDENTITIES.format(pairs=pairs))
        params.append(brand_id)
        for kind, value in terms.identities:
            params += [kind, value]
    if not parts:
        # Only punctuation: nothing can match it.
        return "SELECT NULL WHERE 0", []
    return "\nUNION\n".join(parts), params


def snippets(cursor, brand_id: int, terms: SearchTerms, conversation_ids: list[int]) -> dict:
    """{conversation id: its latest matching message, matches between START and STOP}."""
    query = fts_query(terms)
    if not query or not conversation_ids:
        return {}
    ids = ", ".join(["%s"] * len(conversation_ids))
    cursor.execute(_SNIPPETS.format(ids=ids), [START, STOP, query, brand_id, *conversation_ids])
    # Oldest first: the latest message of each conversation wins.
    return dict(cursor.fetchall())
