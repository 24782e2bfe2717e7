"""What the search API returns."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel


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
