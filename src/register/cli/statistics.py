"""`register stats`: an area's MAPPA annual statistics."""

from __future__ import annotations

import json

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..domain.enums import Area
from .base import main, open_store


@main.command("stats")
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option(
    "--year",
    required=True,
    type=int,
    help="the year the reporting year ends in (2023: April 2022 to March 2023)",
)
@click.option(
    "--population",
    type=int,
    default=None,
    help="the area's population aged 10 and over, for the rate per 100,000",
)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True
)
@click.pass_obj
def stats_cmd(settings: Settings, area: str, year: int, population: int | None, fmt: str) -> None:
    """Produce an area's MAPPA annual statistics tables: as published (the register at the end of 1 April
    after the year) with any revisions since; a year still running is provisional (docs/statistics.md)."""
    from ..domain.errors import InvalidValue
    from ..statistics import render
    from ..statistics import service as statistics

    try:
        with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
            figures = statistics.read_tables(uow, SystemActor("stats"), area, year, population)
    except InvalidValue as exc:  # a year not yet begun: said, not a traceback
        raise click.BadParameter(exc.message, param_hint="--year") from None
    click.echo(
        json.dumps(figures, indent=2)
        if fmt == "json"
        else render.to_csv(figures)
        if fmt == "csv"
        else render.to_html(figures)
    )
