"""What a search backend returns, whichever engine answers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from .query import SearchRequest, leaves

FACETS = ("area", "mappa_category", "mappa_level")


@dataclass
class Hit:
    nominal_id: uuid.UUID
    score: float
    matched: list[str]


@dataclass
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchBackend(Protocol):
    def search(self, request: SearchRequest, today: dt.date) -> Results: ...


def statuses(request: SearchRequest) -> list[str]:
    """Active records by default; archived (and deceased) ones when asked for; merged ones never (they point elsewhere)."""
    return ["active", "archived", "deceased"] if request.include_archived else ["active"]


def leaf_order(request: SearchRequest) -> dict[str, int]:
    return {name: i for i, (name, _) in enumerate(leaves(request.query))}
