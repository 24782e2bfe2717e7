"""`register duplicates`: suspected duplicate records."""

from __future__ import annotations

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..domain.enums import Area
from .base import main, open_store


@main.command("duplicates")
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.pass_obj
def duplicates_cmd(settings: Settings, area: str, limit: int) -> None:
    """List suspected duplicate pairs touching an area (ids, areas and the rule; names only through the
    API)."""
    from ..merges import service as merges

    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        pairs, total = merges.list_pairs(uow, SystemActor("cli"), area, limit=limit)
    click.echo(
        f"{total} suspected duplicate pairs touch {area}"
        + (f" (first {len(pairs)})" if total > len(pairs) else "")
    )
    for p in pairs:
        click.echo(f"  {p.rule:<17} {p.first} ({p.first_area})  {p.second} ({p.second_area})")
