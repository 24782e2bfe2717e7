"""What a search backend returns, whichever engine answers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..domain.errors import InvalidValue
from .query import SearchRequest, leaves

FACETS = ("area", "mappa_category", "mappa_level")


@dataclass
class Hit:
    nominal_id: uuid.UUID
    score: float
    matched: list[str]
    sort: list[Any] = field(
        default_factory=list
    )  # its sort key: [score, id] or [surname, id] (what a cursor resumes after)
    how: dict[str, str] = field(default_factory=dict)  # how each matched criterion matched (matching.how)


@dataclass
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    more: bool = False  # more hits follow the last of these
    snapshot: str | None = None  # the engine's point in time the next page reads (Elasticsearch's PIT id)


class SearchRefused(InvalidValue):
    """The engine refused a query (too costly to run): bad input, named as such, never a server error."""


class SearchUnavailable(Exception):
    """The search engine could not be reached or did not answer in time."""


@dataclass(frozen=True)
class Viewer:
    """Whose search it is, as far as a backend must know.

    A restricted record owned by an area other than `area` is, for this viewer, only a stub ("contact the
    owning area"). Such a record takes no part in the search at all: it is never a hit, never counted, never
    in a facet and never moves another hit's position, whatever its hidden fields hold. Matching it on hidden
    fields, or even on its owning area, would let a search answer questions the stub refuses to (a yes/no
    oracle, a count per area, a place in the surname order). `restricted_stub=False` (a policy without the
    stub rule) shows every record.
    """

    area: str
    restricted_stub: bool = True

    def hides(self, area: str, restricted: bool) -> bool:
        return self.restricted_stub and restricted and area != self.area


class SearchBackend(Protocol):
    def search(self, request: SearchRequest, today: dt.date, viewer: Viewer) -> Results: ...


def statuses(request: SearchRequest) -> list[str]:
    """Active records by default; archived (and deceased) ones when asked for; merged ones never (they point
    elsewhere)."""
    return ["active", "archived", "deceased"] if request.include_archived else ["active"]


def leaf_order(request: SearchRequest) -> dict[str, int]:
    return {name: i for i, (name, _) in enumerate(leaves(request.query))}
