"""Read-side queries for the console: what each page and each live fragment shows.

A full page and the fragment fetched after a WebSocket event render from the
same functions and the same templates, so a refresh shows exactly what a reload
would. Every function is scoped by the caller's brand and runs a fixed number
of SQL queries whatever the number of conversations or messages (the console
tests pin those counts).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, models
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Substr
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import AuthorKind, Conversation, Message, Status
from comptoir.conversations.state import OPEN_STATUSES
from comptoir.customers.models import Customer, Identity
from comptoir.events.models import Event
from comptoir.sla.models import ClockState, SlaClock
from comptoir.tenancy.models import Membership, Team

# The inbox shows the most recently active conversations of a view; beyond this
# the agent narrows the view or searches (the page says how many are hidden and
# links to the search page). Fifty rows fill two screens and render in a few ms.
INBOX_LIMIT = 50
# Characters of the last message the database sends per row (the row shows 110).
INBOX_PREVIEW_LENGTH = 120
# The tabs count up to this many conversations; past it they say "1000+". Counting every
# open conversation of a large brand on each refresh would scan all of them (130 ms at
# 180,000), for a figure nobody reads exactly at that size.
INBOX_COUNT_LIMIT = 1000
# The customer panel lists this many of the customer's conversations, newest first.
CUSTOMER_HISTORY_LIMIT = 50


class InboxView(models.TextChoices):
    UNASSIGNED = "unassigned", _("Unassigned")
    MINE = "mine", _("Mine")
    TEAMS = "teams", _("My teams")
    ALL = "all", _("All open")


DEFAULT_INBOX_VIEW = InboxView.ALL


def parse_inbox_view(value: str | None) -> InboxView:
    """The inbox view named in a query string; unknown values fall back to the default."""
    try:
        return InboxView(value)
    except ValueError:
        return DEFAULT_INBOX_VIEW


def shown_count(count: int) -> str:
    """A tab's count as the inbox shows it: exact up to the limit, then "1000+"."""
    return f"{INBOX_COUNT_LIMIT}+" if count > INBOX_COUNT_LIMIT else str(count)


@dataclass(frozen=True)
class InboxTab:
    view: InboxView
    label: str
    # Counted up to INBOX_COUNT_LIMIT + 1: a count above the limit only says "more".
    count: int
    is_current: bool

    @property
    def shown_count(self) -> str:
        return shown_count(self.count)


@dataclass(frozen=True)
class Inbox:
    view: InboxView
    tabs: list[InboxTab]
    conversations: list[Conversation]
    total: int

    @property
    def hidden_count(self) -> int:
        """How many of the view's conversations the page leaves out (a lower bound if capped)."""
        return max(self.total - len(self.conversations), 0)

    @property
    def total_is_capped(self) -> bool:
        return self.total > INBOX_COUNT_LIMIT

    @property
    def search_query(self) -> str:
        """The search page's filters that list the whole view (older ones included)."""
        return {
            InboxView.UNASSIGNED: "status=open&assignee=none&sort=newest",
            InboxView.MINE: "status=open&assignee=me&sort=newest",
            InboxView.TEAMS: "status=open&assignee=none&sort=newest",
            InboxView.ALL: "status=open&sort=newest",
        }[self.view]


def latest_event_id(brand_id: int) -> int:
    """The id a freshly rendered page resumes the event stream from.

    Views read it before anything else, so that an event committed while the
    page renders is replayed (a harmless extra refresh) rather than missed.
    """
    return Event.objects.filter(brand_id=brand_id).aggregate(last=Max("id"))["last"] or 0


def _view_filter(view: InboxView, membership: Membership) -> Q:
    if view == InboxView.UNASSIGNED:
        return Q(assignee__isnull=True)
    if view == InboxView.MINE:
        return Q(assignee=membership)
    if view == InboxView.TEAMS:
        # Waiting for someone of the agent's teams (a subquery: no join to count through).
        return Q(
            assignee__isnull=True,
            team_id__in=Subquery(Team.objects.filter(members=membership).values("pk")),
        )
    return Q()


def _last_visible_message(field: str) -> Coalesce:
    """A field of the conversation's latest message from the customer or an agent (no notes).

    What the inbox previews: not the automatic acknowledgement or the assistant's
    handoff line, which say nothing of the customer's request. A conversation
    that has only those (a call's summary line) previews its latest one.
    """
    visible = Message.objects.filter(conversation=OuterRef("pk"), is_internal_note=False)
    latest = visible.order_by("-created_at", "-id")
    people = latest.filter(author_kind__in=(AuthorKind.CUSTOMER, AuthorKind.AGENT))
    return Coalesce(Subquery(people.values(field)[:1]), Subquery(latest.values(field)[:1]))


def _running_sla_clock(field: str) -> Subquery:
    """The soonest ``field`` (due or at-risk instant) of the row's running SLA clocks."""
    running = SlaClock.objects.filter(conversation=OuterRef("pk"), state=ClockState.RUNNING)
    return Subquery(running.order_by(field).values(field)[:1])


def _tab_counts(open_conversations: QuerySet[Conversation], membership: Membership) -> dict:
    """Each tab's conversations counted up to ``INBOX_COUNT_LIMIT + 1``, in one query.

    Each count reads at most the limit's rows of the tab's index (the partial
    indexes of open conversations on ``conversations.Conversation``).
    """
    counts, params = [], []
    for choice in InboxView:
        capped = open_conversations.filter(_view_filter(choice, membership)).values("pk")
        sql, view_params = capped[: INBOX_COUNT_LIMIT + 1].query.sql_with_params()
        counts.append(f"(SELECT COUNT(*) FROM ({sql}) AS {choice.value}_tab)")  # noqa: S608
        params.extend(view_params)
    with connection.cursor() as cursor:
        # Django compiled every part; only the tabs' names are added to the SQL.
        cursor.execute("SELECT " + ", ".join(counts), params)
        return dict(zip([choice.value for choice in InboxView], cursor.fetchone(), strict=True))


def load_inbox(membership: Membership, view: InboxView) -> Inbox:
    """The tabs with their counts and the conversations of the chosen view (two queries)."""
    open_conversations = Conversation.objects.filter(
        brand_id=membership.brand_id, status__in=OPEN_STATUSES
    )
    counts = _tab_counts(open_conversations, membership)
    tabs = [
        InboxTab(choice, str(choice.label), counts[choice.value], choice == view)
        for choice in InboxView
    ]
    conversations = list(
        open_conversations.filter(_view_filter(view, membership))
        .select_related("customer", "assignee__user", "team")
        .annotate(
            # Cut in the database: the row shows 110 characters, a message may hold pages.
            last_text=Substr(_last_visible_message("text"), 1, INBOX_PREVIEW_LENGTH),
            last_author_kind=_last_visible_message("author_kind"),
            sla_due_at=_running_sla_clock("due_at"),
            sla_at_risk_at=_running_sla_clock("at_risk_at"),
        )
        .order_by("-last_message_at", "-id")[:INBOX_LIMIT]
    )
    return Inbox(view=view, tabs=tabs, conversations=conversations, total=counts[view.value])


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a conversation's timeline: a message, or a change of status or assignee."""

    at: datetime
    message: Message | None = None
    change: str = ""


def _change_sentences(events: list[Event]) -> list[TimelineEntry]:
    """Turn the conversation's ``conversation.updated`` events into readable lines.

    Each event carries the conversation's state after the change, so the change
    is the difference with the previous event (a new conversation starts open
    and unassigned).
    """
    entries = []
    status, assignee_id = Status.OPEN.value, None
    for event in events:
        payload = event.payload or {}
        new_status = payload.get("status", status)
        new_assignee_id = payload.get("assignee_id")
        if new_assignee_id != assignee_id:
            if new_assignee_id is None:
                sentence = gettext("Unassigned")
            else:
                sentence = gettext("Assigned to %(name)s") % {
                    "name": payload.get("assignee_name") or "?"
                }
            entries.append(TimelineEntry(at=event.created_at, change=sentence))
        if new_status != status:
            sentence = {
                Status.RESOLVED: gettext("Resolved"),
                Status.PENDING: gettext("Marked as pending"),
            }.get(new_status, gettext("Reopened"))
            entries.append(TimelineEntry(at=event.created_at, change=sentence))
        status, assignee_id = new_status, new_assignee_id
    return entries


def load_timeline(conversation: Conversation) -> list[TimelineEntry]:
    """Messages (with authors and attachments) and state changes, oldest first (three queries)."""
    messages = list(
        Message.objects.filter(conversation=conversation)
        # A call shows as its summary line (``phone.Call.summary_message``), same query.
        .select_related("author__user", "call_summary__agent__user", "delivery")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    for message in messages:
        # Templates read the customer's label through the conversation already loaded.
        message.conversation = conversation
    events = list(
        Event.objects.filter(conversation=conversation, kind="conversation.updated")
        .only("payload", "created_at")
        .order_by("id")
    )
    entries = [TimelineEntry(at=m.created_at, message=m) for m in messages]
    entries.extend(_change_sentences(events))
    # A stable sort keeps messages before a change stamped in the same instant.
    entries.sort(key=lambda entry: entry.at)
    return entries


def load_colleagues(membership: Membership) -> list[Membership]:
    """The active agents of the brand a conversation can be assigned to."""
    return list(
        Membership.objects.filter(brand_id=membership.brand_id, is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )


@dataclass(frozen=True)
class CustomerPanel:
    customer: Customer
    identities: list[Identity]
    conversations: list[Conversation]
    total_conversations: int


def load_customer_panel(customer: Customer) -> CustomerPanel:
    """Who the customer is and every conversation they had, on every channel.

    Two queries, plus a count once the history reaches ``CUSTOMER_HISTORY_LIMIT``.
    """
    identities = list(customer.identities.order_by("kind", "value"))
    history = Conversation.objects.filter(brand_id=customer.brand_id, customer=customer)
    first_message = Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), is_internal_note=False)
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    conversations = list(
        history.annotate(first_text=first_message).order_by("-created_at", "-id")[
            :CUSTOMER_HISTORY_LIMIT
        ]
    )
    total = len(conversations) if len(conversations) < CUSTOMER_HISTORY_LIMIT else history.count()
    return CustomerPanel(
        customer=customer,
        identities=identities,
        conversations=conversations,
        total_conversations=total,
    )
