"""The MAPPA annual statistics: the area's tables for a reporting year (1 April to 31 March) laid out as the
published annual reports print them, each with a chart of this year against last (grouped bars) and the same
figures in a table beside it with the change, a CSV download per table, and the people behind a figure.

The figures come from `statistics.service` (the API's use cases): reading the tables is audited once per view
(`statistics:tables:read`, naming both years), the people behind a figure as `statistics:cell:people` with the
ids whose names were shown. The year, table, row and column in a URL are codes, not personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.errors import InvalidValue
from ..exports import to_csv
from ..statistics import render as statistics_render
from ..statistics import service
from . import charts
from .common import PageGuard, PageProblem, page_links, render, verify_csrf, work
from .pages import LONDON, label

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
Supervisor = Annotated[Principal, Depends(PageGuard("statistics.read"))]

FIRST_YEAR = 2005  # the first reporting year the register offers (2004/05)
PEOPLE_PAGE = 50
CATEGORY_WORDS = {
    1: "Category 1: subject to sex offender notification requirements",
    2: "Category 2: violent offenders",
    3: "Category 3: other dangerous offenders",
}


@dataclass(frozen=True)
class Line:
    """One printed line of a table: its label, and where its figure is in the service's {row: {column: n}}."""

    label: str
    row: str
    column: str


@dataclass(frozen=True)
class Layout:
    title: str
    levels: tuple[int, ...] = ()  # a category-by-level table: one line per level, a column per category
    lines: tuple[Line, ...] = ()  # a list of figures
    by_unit: bool = False  # one line per policing unit
    total: bool = False


LAYOUTS: dict[str, Layout] = {
    "eligible_on_31_march": Layout("MAPPA-eligible individuals on 31 March", levels=(1, 2, 3)),
    "level_2_3_during_year": Layout(
        "MAPPA-eligible individuals in Levels 2 and 3 by category (yearly total)", levels=(2, 3)
    ),
    "category_1_breach_of_notification": Layout(
        "Category 1 cautioned or convicted for breach of notification requirements",
        lines=(Line("Cautioned or convicted", "category_1", "count"),),
    ),
    "lifetime_notification_revoked": Layout(
        "Category 1 who have had their lifetime notification revoked on application",
        lines=(Line("Revoked on application", "category_1", "count"),),
    ),
    "orders_made": Layout(
        "Restrictive orders for Category 1 offenders",
        lines=(
            Line("Sexual Harm Prevention Order (SHPO)", "shpo", "count"),
            Line("SHPO with foreign travel restriction", "shpo_foreign_travel_restriction", "count"),
            Line("Notification Order", "notification_order", "count"),
        ),
    ),
    "notification_after_sro_breach": Layout(
        "Individuals who became subject to notification following a breach of a Sexual Risk Order (SRO)",
        lines=(Line("Became subject to notification", "count", "count"),),
    ),
    "level_2_3_returned_to_custody": Layout(
        "Level 2 and 3 individuals returned to custody for breach of licence", levels=(2, 3)
    ),
    "breach_of_shpo": Layout(
        "Breach of SHPO",
        lines=(Line("Level 2", "breach_of_shpo", "2"), Line("Level 3", "breach_of_shpo", "3")),
        total=True,
    ),
    "registered_sex_offenders_by_unit": Layout(
        "Registered sex offenders in the community by policing unit", by_unit=True, total=True
    ),
}


def latest_year(today: dt.date) -> int:
    """The latest reporting year that has ended: on 30 November 2026, 2025/26 (the year ending 31 March
    2026)."""
    return today.year if today > dt.date(today.year, 3, 31) else today.year - 1


def year_label(year: int) -> str:
    return f"{year - 1}/{str(year)[2:]}"


def _figure(table: dict[str, dict[str, int]], row: str, column: str) -> int:
    return table.get(row, {}).get(column, 0)


def _people_href(year: int, table: str, row: str, column: str, *, revised: bool = False) -> str:
    query: dict[str, Any] = {"year": year, "table": table, "row": row, "column": column}
    if revised:
        query["revised"] = 1
    return "/statistics/people?" + urlencode(query)


def shape(name: str, this: dict[str, Any], last: dict[str, Any], year: int) -> dict[str, Any]:
    """One table as the report prints it (this year's figures, each a link to its people), and its
    year-on-year lines (last year, this year, the change) with their chart."""
    layout = LAYOUTS[name]
    now, before = this["tables"].get(name, {}), last["tables"].get(name, {})
    columns: list[str] = []
    lines: list[dict[str, Any]] = []
    compared: list[tuple[str, int, int]] = []
    if layout.levels:
        columns = [CATEGORY_WORDS[c] for c in service.PUBLISHED_CATEGORIES]
        totals = [0] * len(service.PUBLISHED_CATEGORIES)
        for level in layout.levels:
            cells = []
            for i, category in enumerate(service.PUBLISHED_CATEGORIES):
                n = _figure(now, str(category), str(level))
                totals[i] += n
                cells.append({"n": n, "href": _people_href(year, name, str(category), str(level))})
            lines.append({"label": f"Level {level}", "cells": cells, "total": sum(c["n"] for c in cells)})
        lines.append(
            {"label": "Total", "cells": [{"n": t} for t in totals], "total": sum(totals), "is_total": True}
        )
        for category in service.PUBLISHED_CATEGORIES:
            compared.append(
                (
                    f"Category {category}",
                    sum(_figure(before, str(category), str(level)) for level in layout.levels),
                    sum(_figure(now, str(category), str(level)) for level in layout.levels),
                )
            )
    else:
        columns = ["Number"]
        printed = layout.lines
        if layout.by_unit:
            units = sorted(set(now) | set(before), key=str.casefold)
            printed = tuple(Line(unit, unit, "count") for unit in units)
        for line in printed:
            n = _figure(now, line.row, line.column)
            lines.append(
                {
                    "label": line.label,
                    "cells": [{"n": n, "href": _people_href(year, name, line.row, line.column)}],
                    "total": None,
                }
            )
            compared.append((line.label, _figure(before, line.row, line.column), n))
        if layout.total:
            lines.append(
                {
                    "label": "Total",
                    "cells": [{"n": sum(line["cells"][0]["n"] for line in lines)}],
                    "total": None,
                    "is_total": True,
                }
            )
    this_label, last_label = year_label(year), year_label(year - 1)
    chart = charts.bars(
        f"{layout.title}: {last_label} and {this_label}",
        [(text, [old, new]) for text, old, new in compared],
        series=[last_label, this_label],
    )
    return {
        "name": name,
        "title": layout.title,
        "columns": columns,
        "with_total_column": bool(layout.levels),
        "lines": lines,
        "compared": [
            {"label": text, "last": old, "this": new, "change": new - old} for text, old, new in compared
        ],
        "chart": chart,
        "csv": f"/statistics/{name}.csv?year={year}",
        "definition": this.get("definitions", {}).get(name, ""),
        "revisions": [
            {
                "cell": _cell_words(name, r["row"], r["column"]),
                "published": r["published"],
                "revised": r["revised"],
                "href": _people_href(year, name, r["row"], r["column"], revised=True),
            }
            for r in this.get("revisions", [])
            if r["table"] == name
        ],
    }


def _year(request: Request, today: dt.date) -> tuple[int, str | None]:
    latest = latest_year(today)
    raw = request.query_params.get("year", "")
    if not raw:
        return latest, None
    if raw.isdigit() and len(raw) == 4 and FIRST_YEAR <= int(raw) <= latest + 1:
        return int(raw), None
    return latest, f"Choose a reporting year from {year_label(FIRST_YEAR)} to {year_label(latest + 1)}"


def _today() -> dt.date:
    return dt.datetime.now(LONDON).date()


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(request: Request, supervisor: Supervisor) -> HTMLResponse:
    today = _today()
    year, error = _year(request, today)
    with work(request) as uow:
        this, last = service.read_tables_compared(uow, supervisor, supervisor.area.value, year)
    tables = [shape(name, this, last, year) for name in LAYOUTS]
    latest = latest_year(today)
    return render(
        request,
        "pages/statistics/tables.html",
        {
            "title": ("Error: " if error else "") + f"MAPPA annual statistics {year_label(year)}",
            "area": label(supervisor.area),
            "year": year,
            "year_label": year_label(year),
            "last_label": year_label(year - 1),
            "snapshot_date": dt.date.fromisoformat(this["snapshot"]),
            "period_text": f"1 April {year - 1} to 31 March {year}",
            "provisional": dt.date.fromisoformat(this["provisional"]) if this.get("provisional") else None,
            "as_known_at": this.get("as_known_at"),
            "note": this.get("note"),
            "years": [(y, year_label(y)) for y in range(latest + 1, FIRST_YEAR - 1, -1)],
            "error": error,
            "tables": tables,
        },
        status_code=400 if error else 200,
    )


@router.get("/statistics/{table}.csv")
def table_csv(request: Request, table: str, supervisor: Supervisor) -> Response:
    """One table's figures for the year as CSV (the API's columns), every cell defused against formulas."""
    if table not in LAYOUTS:
        raise PageProblem(404, "Page not found", "There is no such table.")
    year, error = _year(request, _today())
    if error:
        raise PageProblem(400, "There is a problem", error, rule="year")
    with work(request) as uow:
        figures = service.read_tables(uow, supervisor, supervisor.area.value, year)
    rows = [r for r in statistics_render.rows(figures) if r["table"] == table]
    body = to_csv(
        ["area", "year", "table", "row", "column", "count"],
        ({"area": figures["area"], "year": figures["year"], **r} for r in rows),
    )
    return Response(
        body,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{table}-{year}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _cell_words(table: str, row: str, column: str) -> str:
    layout = LAYOUTS[table]
    if layout.levels and row.isdigit() and column.isdigit():
        return f"Category {row}, Level {column}"
    if layout.by_unit:
        return row
    for line in layout.lines:
        if (line.row, line.column) == (row, column):
            return line.label
    return f"{label(row)}, {label(column)}"


@router.get("/statistics/people", response_class=HTMLResponse)
def people_page(request: Request, supervisor: Supervisor) -> HTMLResponse:
    q = request.query_params
    table, row, column = q.get("table", ""), q.get("row", "")[:200], q.get("column", "")[:60]
    if table not in LAYOUTS or not row or not column:
        raise PageProblem(404, "Page not found", "There is no such figure.")
    year, error = _year(request, _today())
    if error:
        raise PageProblem(400, "There is a problem", error, rule="year")
    revised = q.get("revised") == "1"
    raw_page = q.get("page", "1")
    page = max(1, min(10_000, int(raw_page))) if raw_page.isdigit() and len(raw_page) < 6 else 1
    try:
        with work(request) as uow:
            found = service.read_cell_people(
                uow,
                supervisor,
                supervisor.area.value,
                year,
                table,
                row,
                column,
                offset=(page - 1) * PEOPLE_PAGE,
                limit=PEOPLE_PAGE,
                request_id=request_id(request),
                revised=revised,
            )
    except InvalidValue as exc:
        raise PageProblem(400, "There is a problem", exc.message, rule=exc.rule) from None
    base = _people_href(year, table, row, column, revised=revised)
    pagination = page_links(
        page,
        size=PEOPLE_PAGE,
        total=found.total,
        shown=len(found.people),
        href=lambda n: f"{base}&page={n}",
        noun="people",
        label="Pages of people",
    )
    return render(
        request,
        "pages/statistics/people.html",
        {
            "title": f"The people behind a figure – {LAYOUTS[table].title}",
            "table_title": LAYOUTS[table].title,
            "cell": _cell_words(table, row, column) + (" (as revised since publication)" if revised else ""),
            "year_label": year_label(year),
            "people": found.people,
            "total": found.total,
            "pagination": pagination,
            "named_in_order": found.total <= service.NAME_ORDER_UP_TO,
            "breadcrumbs": [
                {"text": "Statistics", "href": f"/statistics?year={year}"},
            ],
        },
    )
