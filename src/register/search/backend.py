"""What a search backend returns, whichever engine answers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..domain.errors import InvalidValue
from .documents import EVERYONE
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
    # Free text's words in the piece of narrative they were found in, by criterion name: Elasticsearch only
    # (the embedded backend holds hashes of words, not text), HTML-escaped with the words in <mark>
    highlight: dict[str, str] = field(default_factory=dict)


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
    # What free text may read: pieces of narrative whose audience names `agency` or everyone (None: every
    # piece, for a policy without item audiences), in the sections the viewer's agency may read (None: all).
    # A piece outside them takes no part: it never matches, never counts, is never highlighted.
    agency: str | None = None
    sections: frozenset[str] | None = None

    def hides(self, area: str, restricted: bool) -> bool:
        return self.restricted_stub and restricted and area != self.area

    def audiences(self) -> list[str] | None:
        """The audiences a readable piece has one of (None: any)."""
        return None if self.agency is None else [self.agency, EVERYONE]

    def reads(self, piece: dict[str, Any]) -> bool:
        audiences = self.audiences()
        return (audiences is None or bool(set(piece["audiences"]) & set(audiences))) and (
            self.sections is None or piece["section"] in self.sections
        )

    def readable(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The document as this viewer may read it (what the reference semantics judge)."""
        return {**doc, "narrative": [p for p in doc.get("narrative", []) if self.reads(p)]}


class SearchBackend(Protocol):
    def search(self, request: SearchRequest, today: dt.date, viewer: Viewer) -> Results: ...


def statuses(request: SearchRequest) -> list[str]:
    """Active records by default; archived (and deceased) ones when asked for; merged ones never (they point
    elsewhere)."""
    return ["active", "archived", "deceased"] if request.include_archived else ["active"]


def leaf_order(request: SearchRequest) -> dict[str, int]:
    return {name: i for i, (name, _) in enumerate(leaves(request.query))}
