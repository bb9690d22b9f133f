"""``GET /api/search``: the console's search for integrators (registered in ``api.urls``).

The same parameters as the console's search page (``search.params``), plus
``limit`` and ``offset``; a bad value answers 422 naming the field. Results
are the brand's conversations only, as everywhere in the API.
"""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from comptoir.api.schemas import ConversationOut, ErrorOut
from comptoir.search.params import Page, SearchParams
from comptoir.search.query import MAX_OFFSET, SearchHit, search_conversations

search_router = Router(tags=["search"])


class SearchQuery(SearchParams):
    limit: int = Field(50, ge=1, le=200, description="Page size (at most 200).")
    offset: int = Field(
        0, ge=0, le=MAX_OFFSET, description=f"How many results to skip (at most {MAX_OFFSET})."
    )


class SearchHitOut(Schema):
    conversation: ConversationOut
    snippet: str = Field(
        description="The latest matching message, cut around its matches (plain text); "
        "empty when the conversation matched by its customer or subject."
    )
    snippet_html: str = Field(
        description="The same, HTML-escaped, each match in <mark>…</mark>: safe to insert."
    )

    @staticmethod
    def resolve_snippet(hit: SearchHit) -> str:
        return hit.snippet_text

    @staticmethod
    def resolve_snippet_html(hit: SearchHit) -> str:
        return str(hit.snippet)


class SearchPageOut(Schema):
    items: list[SearchHitOut]
    count: int = Field(description="How many conversations match.")


@search_router.get("/search", response={200: SearchPageOut, 401: ErrorOut})
def search(request: HttpRequest, params: Query[SearchQuery]) -> dict:
    """The brand's conversations a text finds in messages, subjects, names and identities."""
    membership = request.auth  # type: ignore[attr-defined]
    results = search_conversations(
        membership,
        params.text,
        params.filters(),
        params.sort,
        Page(offset=params.offset, limit=params.limit),
    )
    return {
        "items": results.hits,
        "count": results.total,
    }
