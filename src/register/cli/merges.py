"""`register duplicates`: suspected duplicate records."""

from __future__ import annotations

from typing import Any

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..domain.enums import Area
from .base import json_option, main, open_store, report


@main.command("duplicates")
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_obj
def duplicates_cmd(settings: Settings, area: str, limit: int, as_json: bool) -> None:
    """List suspected duplicate pairs touching an area (ids, areas and the rule; names only through the
    API)."""
    from ..merges import service as merges

    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        pairs, total = merges.list_pairs(uow, SystemActor("cli"), area, limit=limit)
    result = {
        "area": area,
        "total": total,
        "pairs": [
            {
                "rule": p.rule,
                "first": str(p.first),
                "first_area": p.first_area,
                "second": str(p.second),
                "second_area": p.second_area,
            }
            for p in pairs
        ],
    }
    report(result, as_json, _duplicate_lines)


def _duplicate_lines(r: dict[str, Any]) -> list[str]:
    shown = len(r["pairs"])
    head = f"{r['total']} suspected duplicate pairs touch {r['area']}" + (
        f" (first {shown})" if r["total"] > shown else ""
    )
    return [head] + [
        f"  {p['rule']:<17} {p['first']} ({p['first_area']})  {p['second']} ({p['second_area']})"
        for p in r["pairs"]
    ]
