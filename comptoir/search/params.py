"""What a search asks for, validated once for the console, the API and saved views.

``SearchParams`` is the query string (``q``, ``status``, ``channel``, ``team``,
``assignee``, ``priority``, ``tag``, ``since``, ``until``, ``sort``): the API declares it
as its query parameters (a bad value is a 422 naming the field), the console
validates ``request.GET`` with it (a 400 page saying what is wrong), and a saved
view stores it as the query string it reproduces.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import model_validator

from comptoir.conversations.models import Channel

QUERY_MAX_LENGTH = 200

StatusValue = Literal["open", "pending", "resolved"]
ChannelValue = Literal["webchat", "email", "phone", "whatsapp", "messenger", "api"]
assert set(ChannelValue.__args__) == set(Channel.values)  # one list of channels


class Sort(StrEnum):
    NEWEST = "newest"  # most recently active first, as the inbox
    OLDEST = "oldest"  # first opened first
    WAITING = "waiting"  # customers waiting for an answer first, the longest waiting first


@dataclass(frozen=True)
class SearchFilters:
    """Conditions on the conversation; ``assignee`` is "me", "none" or a membership id."""

    status: str | None = None
    channel: str | None = None
    team_id: int | None = None
    assignee: str | None = None
    priority: int | None = None
    tag: str | None = None  # a tag's name, in any case
    since: date | None = None  # opened on or after (the brand's day, server time zone)
    until: date | None = None  # opened on or before


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = 50


class SearchParams(Schema):
    q: str = Field(
        "",
        max_length=QUERY_MAX_LENGTH,
        description=(
            'Words of a message or subject (web-search syntax: "exact phrase", or, -word), '
            "a customer's name (typos tolerated on PostgreSQL), e-mail address or phone number."
        ),
    )
    status: StatusValue | None = None
    channel: ChannelValue | None = None
    team: int | None = Field(None, ge=1, description="A team id of the brand.")
    assignee: str | None = Field(
        None, pattern=r"^(me|none|\d+)$", description="'me', 'none' or a membership id."
    )
    priority: int | None = Field(None, ge=0, le=3, description="0 low, 1 normal, 2 high, 3 urgent.")
    tag: str | None = Field(
        None, max_length=50, description="Conversations carrying this tag (its name, any case)."
    )
    since: date | None = Field(None, description="Opened on or after this day (YYYY-MM-DD).")
    until: date | None = Field(None, description="Opened on or before this day (YYYY-MM-DD).")
    sort: Sort = Field(
        Sort.NEWEST,
        description="newest (last activity), oldest (opened first), waiting (longest waiting).",
    )

    @model_validator(mode="before")
    @classmethod
    def blanks_are_absent(cls, data: Any) -> Any:
        """An empty form field (``status=``) means "any", as a missing one."""
        if isinstance(data, DjangoGetter):  # how ninja hands a schema its input
            data = data._obj
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value not in ("", None)}
        return data

    @model_validator(mode="after")
    def period_in_order(self) -> "SearchParams":
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must be on or before until")
        return self

    @property
    def text(self) -> str:
        return self.q.strip()

    def filters(self) -> SearchFilters:
        return SearchFilters(
            status=self.status,
            channel=self.channel,
            team_id=self.team,
            assignee=self.assignee,
            priority=self.priority,
            tag=self.tag,
            since=self.since,
            until=self.until,
        )

    def as_query(self) -> dict[str, str]:
        """The non-empty parameters as a query string carries them (saved views store this)."""
        values = self.model_dump(exclude_defaults=True, mode="json")
        return {key: str(value) for key, value in values.items() if value not in ("", None)}
