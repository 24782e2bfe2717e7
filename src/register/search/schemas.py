"""What the search API returns."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel


class SearchHit(BaseModel):
    """A record that matched. Outside its owning area a restricted record shows only as a stub (no name, no why)."""

    id: uuid.UUID
    score: float
    restricted: bool = False
    owning_area: str
    matched: list[str] = []
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
