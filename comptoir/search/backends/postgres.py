"""PostgreSQL: full-text search on messages and subjects, trigrams on names and addresses.

Each condition is one indexed lookup (``search.ddl``), restricted to the brand:

- message texts and subjects: ``tsvector @@ websearch_to_tsquery`` in French
  (stemmed) and as written, accents folded (GIN);
- customers' names: trigram similarity of the whole text (``%``: "Hugo Laurnet"
  finds Hugo Laurent) or of a part of the name (``<%``: "Laurent"), accents
  and case folded (GIN, pg_trgm);
- e-mail addresses: trigram similarity of the part before the ``@`` (a typo
  in an address still finds it; the domain is left out, or every address at
  gmail.com would be a candidate), unless the address is a customer's exactly;
- exact normalised identities (phone numbers in E.164, WhatsApp ids, customer
  numbers) on their unique index.

The SQL is built from ``search.ddl``'s constants only; what the agent typed is
always a parameter.
"""

from comptoir.customers.models import IdentityKind
from comptoir.search import ddl
from comptoir.search.highlight import START, STOP
from comptoir.search.terms import SearchTerms

_MESSAGES = f"""
SELECT m.conversation_id FROM conversations_message m
 WHERE m.brand_id = %s AND {ddl.tsvector("m.text")} @@ {ddl.tsquery()}"""  # noqa: S608 (constants only)

_SUBJECTS = f"""
SELECT v.id FROM conversations_conversation v
 WHERE v.brand_id = %s AND {ddl.tsvector("v.subject")} @@ {ddl.tsquery()}"""  # noqa: S608 (constants only)

_NAMES = f"""
SELECT v.id FROM conversations_conversation v
  JOIN customers_customer c ON c.id = v.customer_id
 WHERE c.brand_id = %s
   AND ({ddl.folded("c.display_name")} %% {ddl.folded("%s")}
        OR {ddl.folded("%s")} <%% {ddl.folded("c.display_name")})"""  # noqa: S608 (constants only)

_LOCAL = ddl.EMAIL_LOCAL_PART.replace("value", "i.value")
# Above pg_trgm's 0.3 (what the index finds): a typo or a digit apart, not any
# address that shares a first name.
EMAIL_SIMILARITY = 0.5
_EMAILS = f"""
SELECT v.id FROM conversations_conversation v
  JOIN customers_identity i ON i.customer_id = v.customer_id
 WHERE i.brand_id = %s AND i.kind = 'email'
   AND {_LOCAL} %% split_part(lower(%s), '@', 1)
   AND similarity({_LOCAL}, split_part(lower(%s), '@', 1)) >= {EMAIL_SIMILARITY}
   AND NOT EXISTS (SELECT 1 FROM customers_identity x
                    WHERE x.brand_id = %s AND x.kind = 'email' AND x.value = %s)"""  # noqa: S608

_IDENTITIES = """
SELECT v.id FROM conversations_conversation v
  JOIN customers_identity i ON i.customer_id = v.customer_id
 WHERE i.brand_id = %s AND ({pairs})"""

# The latest matching message of each conversation of the page, cut around its matches.
_SNIPPETS = f"""
SELECT DISTINCT ON (m.conversation_id) m.conversation_id,
       ts_headline('{ddl.FR}'::regconfig, m.text, {ddl.tsquery()}, %s)
  FROM conversations_message m
 WHERE m.brand_id = %s AND m.conversation_id = ANY(%s)
   AND {ddl.tsvector("m.text")} @@ {ddl.tsquery()}
 ORDER BY m.conversation_id, m.created_at DESC, m.id DESC"""  # noqa: S608 (constants only)

_HEADLINE_OPTIONS = (
    f'StartSel="{START}", StopSel="{STOP}", MaxWords=30, MinWords=12, ShortWord=2,'
    ' MaxFragments=2, FragmentDelimiter=" … "'
)


def matching_conversations(brand_id: int, terms: SearchTerms) -> tuple[str, list]:
    """SQL selecting the ids of the brand's conversations ``terms`` find, and its parameters."""
    text = terms.text
    parts = [_MESSAGES, _SUBJECTS]
    params: list = [brand_id, text, text, brand_id, text, text]
    if terms.name_like:
        parts.append(_NAMES)
        params += [brand_id, text, text]
    if terms.email_like:
        # Only when the address is no customer's exactly: then it is a typo or a part.
        exact = next((v for kind, v in terms.identities if kind == IdentityKind.EMAIL), "")
        parts.append(_EMAILS)
        params += [brand_id, text, text, brand_id, exact]
    if terms.identities:
        pairs = " OR ".join(["(i.kind = %s AND i.value = %s)"] * len(terms.identities))
        parts.append(_IDENTITIES.format(pairs=pairs))
        params.append(brand_id)
        for kind, value in terms.identities:
            params += [kind, value]
    return "\nUNION\n".join(parts), params


def snippets(cursor, brand_id: int, terms: SearchTerms, conversation_ids: list[int]) -> dict:
    """{conversation id: its latest matching message, matches between START and STOP}."""
    text = terms.text
    cursor.execute(
        _SNIPPETS, [text, text, _HEADLINE_OPTIONS, brand_id, conversation_ids, text, text]
    )
    return dict(cursor.fetchall())
