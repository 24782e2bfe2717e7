"""What the search API takes and returns."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from .query import CURSOR_MAX, Criterion, Group, SearchRequest, check_shape


class SearchBody(Criterion):
    """A search as the API takes it: the query and the one pagination convention (`limit`, `cursor`; the
    answer's `next`). The web pages number their pages instead; both become the same `SearchRequest`."""

    query: Group
    include_archived: bool = Field(
        default=False, description="archived records are left out unless asked for"
    )
    sort: Literal["relevance", "surname"] = "relevance"
    limit: Annotated[int, Field(ge=1, le=100, description="how many hits to return (at most 100)")] = 25
    cursor: Annotated[str, Field(min_length=1, max_length=CURSOR_MAX, pattern=r"^[A-Za-z0-9_-]+$")] | None = (
        Field(
            default=None,
            description="the previous page's `next`, unchanged, with the same query and sort; none: page one",
        )
    )

    @model_validator(mode="after")
    def _bounds(self) -> SearchBody:
        check_shape(self.query)
        return self

    def request(self) -> SearchRequest:
        return SearchRequest(
            query=self.query,
            include_archived=self.include_archived,
            sort=self.sort,
            page_size=self.limit,
            cursor=self.cursor,
        )


class SearchHit(BaseModel):
    """A record that matched. Restricted records of other areas are never hits (not even stubs: see
    docs/api.md, Search); `restricted` and `message` stay in the schema for clients written against the stub
    form."""

    id: uuid.UUID
    score: float
    restricted: bool = False
    owning_area: str
    matched: list[str] = []
    how: dict[str, str] = {}  # how each criterion in `matched` matched, by its name there ("0:name")
    # free text's words where they were found, by criterion name ("0:text"): Elasticsearch only; the text is
    # HTML-escaped and the words are in <mark>...</mark>
    highlight: dict[str, str] = {}
    message: str | None = None
    forenames: str | None = None
    surname: str | None = None
    date_of_birth: dt.date | None = None
    status: str | None = None
    nominal_type: str | None = None
    mappa_category: int | None = None
    mappa_level: int | None = None


class SearchPage(BaseModel):
    """A page of hits as the API returns it."""

    total: int
    backend: Literal["elasticsearch", "sql"]
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    next: str | None = Field(
        description="send it as `cursor`, with the same query and sort, for the page after; null: the last"
    )

    @classmethod
    def of(cls, results: SearchResults) -> SearchPage:
        return cls(
            total=results.total,
            backend=results.backend,
            hits=results.hits,
            facets=results.facets,
            next=results.next_cursor,
        )


class SearchResults(BaseModel):
    total: int
    page: int
    page_size: int
    backend: Literal["elasticsearch", "sql"]
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    next_cursor: str | None = (
        None  # send it back as `cursor` (same query and sort) for the next page; None: this is the last
    )


class OutboxPruned(BaseModel):
    """What `register outbox prune` removed (decision 87): counts and row numbers, never a record."""

    keep_days: int
    before: dt.datetime = Field(description="rows indexed (or superseded) before this were removed")
    removed: int = Field(description="rows already in the search index")
    superseded: int = Field(description="waiting rows of a record with a newer waiting row")
    kept_after: int | None = Field(
        description="rows after this number were kept for the watched searches not yet evaluated against "
        "them (`register watches run`'s mark); None: every row was looked at"
    )
