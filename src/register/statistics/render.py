"""The annual statistics as CSV and as a readable HTML page. Pure: figures in, text out."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from typing import Any

from ..exports import to_csv as _csv

TITLES = {
    "eligible_on_31_march": "MAPPA-eligible individuals in the community on 31 March (category by level)",
    "level_2_3_during_year": (
        "MAPPA-eligible individuals managed at Level 2 and 3 during the year (category by level)"
    ),
    "category_1_breach_of_notification": (
        "Category 1 cautioned or convicted for breach of notification requirements"
    ),
    "lifetime_notification_revoked": "Category 1 whose lifetime notification was revoked on application",
    "orders_made": (
        "Restrictive orders for Category 1: SHPOs, SHPOs with foreign travel restriction, Notification Orders"
    ),
    "notification_after_sro_breach": (
        "Individuals who became subject to notification following breach of a Sexual Risk Order"
    ),
    "level_2_3_returned_to_custody": (
        "Level 2 and 3 individuals returned to custody for breach of licence (category by level)"
    ),
    "breach_of_shpo": "Breach of SHPO (by level)",
    "registered_sex_offenders_by_unit": "Registered sex offenders in the community by policing unit",
}


STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
    "th,td{border:1px solid #999;padding:.3em .7em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
)
# The page's own policy: nothing but its one inline style (by hash); no script at all; never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    out = [
        {"table": t, "row": r, "column": c, "count": n}
        for t, table in figures["tables"].items()
        for r, cols in sorted(table.items())
        for c, n in sorted(cols.items())
    ]
    out += [  # a figure revised since publication: its revised value beside the published one
        {"table": f"revised:{r['table']}", "row": r["row"], "column": r["column"], "count": r["revised"]}
        for r in figures.get("revisions", [])
    ]
    if figures.get("notification_rate_per_100k") is not None:
        out.append(
            {
                "table": "notification_rate_per_100k",
                "row": "category_1",
                "column": "rate",
                "count": figures["notification_rate_per_100k"],
            }
        )
    return out


def to_csv(figures: dict[str, Any]) -> str:
    return to_csv_areas([figures])


def to_csv_areas(every: Iterable[dict[str, Any]]) -> str:
    """Several areas' figures as one file: one header, each area's rows in turn."""
    return _csv(
        ["area", "year", "table", "row", "column", "count"],
        (
            {"area": figures["area"], "year": figures["year"], **row}
            for figures in every
            for row in rows(figures)
        ),
    )


def to_html(figures: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>MAPPA statistics "
        f"{e(figures['area'])} {e(figures['year'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>MAPPA annual statistics: {e(figures['area'])}, {e(figures['year'])}</h1>",
        f"<p>Snapshot figures are on {e(figures['snapshot'])}; the rest cover "
        f"{e(figures['period']['from'])} to {e(figures['period']['to'])}, in UK time. Category 4 is counted "
        "but not published.</p>",
    ]
    if figures.get("provisional"):
        parts.append(
            f"<p><strong>Provisional</strong>: the year has not ended; figures to the end of "
            f"{e(figures['provisional'])}.</p>"
        )
    elif figures.get("as_known_at"):
        parts.append(
            f"<p>As published: the register as it stood at {e(figures['as_known_at'])}. Figures revised "
            "since are shown beside each table.</p>"
        )
    if figures.get("note"):
        parts.append(f"<p><strong>Note</strong>: {e(figures['note'])}.</p>")
    revisions: dict[str, list[dict[str, Any]]] = {}
    for r in figures.get("revisions", []):
        revisions.setdefault(r["table"], []).append(r)
    for name, table in figures["tables"].items():
        columns = sorted({c for cols in table.values() for c in cols})
        parts.append(
            f"<h2>{e(TITLES.get(name, name))}</h2><table><tr><th></th>"
            + "".join(f"<th>{e(c)}</th>" for c in columns)
            + "<th>total</th></tr>"
        )
        for row_key, cols in sorted(table.items()):
            parts.append(
                f"<tr><td>{e(row_key)}</td>"
                + "".join(f"<td>{cols.get(c, 0)}</td>" for c in columns)
                + f"<td>{sum(cols.values())}</td></tr>"
            )
        if not table:
            parts.append("<tr><td>none</td><td>0</td></tr>")
        parts.append("</table>")
        if figures.get("definitions", {}).get(name):
            parts.append(f"<p>Definition: {e(figures['definitions'][name])}</p>")
        for r in revisions.get(name, []):
            parts.append(
                f"<p>Revised since publication: {e(str(r['row']))}, {e(str(r['column']))}: published "
                f"{r['published']}, now {r['revised']}.</p>"
            )
    if figures.get("notification_rate_per_100k") is not None:
        parts.append(
            "<h2>Individuals subject to notification per 100,000 "
            f"population</h2><p>{figures['notification_rate_per_100k']}</p>"
        )
    parts.append("</body></html>")
    return "".join(parts)
