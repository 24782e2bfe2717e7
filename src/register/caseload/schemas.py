"""The caseload page's question (sort, filters, page) and its answer (rows with what is due, counts,
paging)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, cast

from ..domain.caseload import Counts, Due

Sort = Literal["name", "date_of_birth", "category", "level", "due"]
Order = Literal["ascending", "descending"]
DueFilter = Literal["overdue", "week", "month"]
SORTS: tuple[Sort, ...] = ("name", "date_of_birth", "category", "level", "due")
DUE_FILTERS: dict[DueFilter, str] = {
    "overdue": "Overdue",
    "week": "Due in the next 7 days",
    "month": "Due in the next 30 days",
}
PAGE_SIZE = 20


@dataclass(frozen=True)
class CaseloadQuery:
    sort: Sort = "due"
    order: Order = "ascending"
    levels: frozenset[int] = frozenset()
    categories: frozenset[int] = frozenset()
    due: DueFilter | None = None
    page: int = 1
    page_size: int = PAGE_SIZE

    @classmethod
    def from_params(cls, params: Mapping[str, list[str]]) -> CaseloadQuery:
        """From a query string, forgiving: a value it does not know is ignored, never an error page."""

        def first(name: str) -> str | None:
            values = params.get(name) or []
            return values[0] if values else None

        sort = first("sort")
        order = first("order")
        due = first("due")
        page = first("page")
        return cls(
            sort=cast(Sort, sort) if sort in SORTS else "due",
            order="descending" if order == "descending" else "ascending",
            levels=frozenset(int(v) for v in params.get("level", []) if v in ("1", "2", "3")),
            categories=frozenset(int(v) for v in params.get("category", []) if v in ("1", "2", "3", "4")),
            due=cast(DueFilter, due) if due in DUE_FILTERS else None,
            page=int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    def params(self, **changes: object) -> list[tuple[str, str]]:
        """This query (with changes) as query-string pairs, defaults left out."""
        q = replace(self, **changes)  # type: ignore[arg-type]
        out: list[tuple[str, str]] = []
        if q.sort != "due":
            out.append(("sort", q.sort))
        if q.order != "ascending":
            out.append(("order", q.order))
        out += [("level", str(v)) for v in sorted(q.levels)]
        out += [("category", str(v)) for v in sorted(q.categories)]
        if q.due:
            out.append(("due", q.due))
        if q.page != 1:
            out.append(("page", str(q.page)))
        return out


@dataclass(frozen=True)
class CaseloadRow:
    id: uuid.UUID
    forenames: str
    surname: str
    date_of_birth: dt.date | None
    mappa_category: int | None
    mappa_level: int | None
    restricted: bool
    due: list[Due]

    @property
    def next_due(self) -> Due | None:
        return self.due[0] if self.due else None

    @property
    def overdue(self) -> list[Due]:
        return [d for d in self.due if d.overdue]


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int  # people matching the filters
    caseload: int  # people on the whole caseload
    counts: Counts  # over the whole caseload
    query: CaseloadQuery
    today: dt.date

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))
