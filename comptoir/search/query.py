"""The one query interface of search: ``search_conversations``.

The console's search page, saved views, the pending and resolved views and
``GET /api/search`` all call it. It is always scoped to the membership's brand:
the brand is a condition of every indexed lookup (``backends``) and of the
outer query. The backend follows the database: PostgreSQL full-text search
and trigrams, or SQLite FTS5 (``search.ddl`` creates what each needs).

Four queries whatever the data: the ids of the page with the total (one pass
over the matches, a window count), the page's conversations (with customer,
assignee, team and last message), their tags, and the snippets of its matching messages.
Joining the details after the page is cut keeps them off the thousands of rows
a common word matches.
"""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import connection
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.safestring import SafeString

from comptoir.conversations.models import (
    AuthorKind,
    Conversation,
    ConversationTag,
    Message,
    Status,
    Tag,
)
from comptoir.conversations.tags import tag_key
from comptoir.search.backends import postgres, sqlite
from comptoir.search.highlight import snippet_html, snippet_text
from comptoir.search.params import Page, SearchFilters, Sort
from comptoir.search.terms import read_terms
from comptoir.tenancy.models import Membership

# The deepest page: past it the agent narrows the search.
MAX_OFFSET = 1000


@dataclass(frozen=True)
class SearchHit:
    conversation: Conversation
    # The latest matching message cut around its matches (escaped, matches in <mark>);
    # empty when the conversation matched by its customer or subject only.
    snippet: SafeString = field(default_factory=lambda: SafeString(""))
    snippet_text: str = ""


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int
    page: Page

    @property
    def next_offset(self) -> int | None:
        following = self.page.offset + self.page.limit
        return following if following < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(self.page.offset - self.page.limit, 0) if self.page.offset else None


def _backend():
    return postgres if connection.vendor == "postgresql" else sqlite


def _last_visible_message(column: str) -> Subquery:
    return Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), is_internal_note=False)
        .order_by("-created_at", "-id")
        .values(column)[:1]
    )


def _filtered(membership: Membership, filters: SearchFilters) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(brand_id=membership.brand_id)
    if filters.status:
        conversations = conversations.filter(status=filters.status)
    if filters.channel:
        conversations = conversations.filter(channel=filters.channel)
    if filters.team_id is not None:
        conversations = conversations.filter(team_id=filters.team_id)
    if filters.priority is not None:
        conversations = conversations.filter(priority=filters.priority)
    if filters.tag:
        tagged = ConversationTag.objects.filter(
            brand_id=membership.brand_id,
            tag__brand_id=membership.brand_id,
            tag__key=tag_key(filters.tag),
        )
        conversations = conversations.filter(pk__in=tagged.values("conversation_id"))
    if filters.assignee == "me":
        conversations = conversations.filter(assignee=membership)
    elif filters.assignee == "none":
        conversations = conversations.filter(assignee__isnull=True)
    elif filters.assignee:
        conversations = conversations.filter(assignee_id=int(filters.assignee))
    zone = timezone.get_current_timezone()
    if filters.since:
        start = timezone.make_aware(datetime.combine(filters.since, time.min), zone)
        conversations = conversations.filter(created_at__gte=start)
    if filters.until:
        end = timezone.make_aware(datetime.combine(filters.until, time.max), zone)
        conversations = conversations.filter(created_at__lte=end)
    return conversations


def _sorted(conversations: QuerySet[Conversation], sort: Sort) -> QuerySet[Conversation]:
    if sort == Sort.OLDEST:
        return conversations.order_by("created_at", "id")
    if sort == Sort.WAITING:
        # Waiting: not resolved, and the customer wrote last (a customer's message sets
        # ``last_message_at``, so it is when they started waiting); longest first.
        waiting = Case(
            When(
                Q(last_author_kind=AuthorKind.CUSTOMER) & ~Q(status=Status.RESOLVED),
                then=Value(0),
            ),
            default=Value(1),
            output_field=IntegerField(),
        )
        return conversations.annotate(waiting=waiting).order_by("waiting", "last_message_at", "id")
    return conversations.order_by("-last_message_at", "-id")


def search_conversations(
    membership: Membership,
    text: str,
    filters: SearchFilters | None = None,
    sort: Sort = Sort.NEWEST,
    page: Page | None = None,
) -> SearchResults:
    """The brand's conversations that ``text`` finds (all of them when it is blank), filtered.

    ``text`` is looked for in message texts (notes included: only agents search),
    subjects, the customer's name and identities (an e-mail address, a phone
    number in any national or international form, a customer number).
    """
    filters = filters or SearchFilters()
    page = page or Page()
    conversations = _filtered(membership, filters)
    terms = read_terms(text, membership.brand.default_region) if text.strip() else None
    backend = _backend()
    if terms is not None:
        sql, params = backend.matching_conversations(membership.brand_id, terms)
        # The backends' SQL is constants; the text and the brand are parameters.
        conversations = conversations.filter(id__in=RawSQL(sql, params))  # noqa: S611
    if sort == Sort.WAITING:
        conversations = conversations.annotate(
            last_author_kind=_last_visible_message("author_kind")
        )
    # The page's ids and the total in one pass over the matches; the rows of the page after.
    ranked = list(
        _sorted(conversations, sort)
        .annotate(total=Window(Count("id")))
        .values_list("id", "total")[page.offset : page.offset + page.limit]
    )
    if ranked:
        total = ranked[0][1]
    elif page.offset:
        total = conversations.count()  # a page beyond the last
    else:
        total = 0
    ids = [conversation_id for conversation_id, _ in ranked]
    found: list[Conversation] = []
    marked: dict[int, str] = {}
    if ids:
        rows = (
            Conversation.objects.filter(pk__in=ids)
            .select_related("customer", "assignee__user", "team")
            .prefetch_related(Prefetch("tags", Tag.objects.order_by("key")))
            .annotate(
                last_text=_last_visible_message("text"),
                last_author_kind=_last_visible_message("author_kind"),
            )
            .in_bulk()
        )
        found = [rows[conversation_id] for conversation_id in ids]
        if terms is not None:
            with connection.cursor() as cursor:
                marked = backend.snippets(cursor, membership.brand_id, terms, ids)
    hits = [
        SearchHit(
            conversation,
            snippet_html(marked[conversation.pk]) if conversation.pk in marked else SafeString(""),
            snippet_text(marked.get(conversation.pk, "")),
        )
        for conversation in found
    ]
    return SearchResults(hits=hits, total=total, page=page)
