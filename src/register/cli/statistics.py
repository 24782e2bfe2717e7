"""`register stats`: an area's MAPPA annual statistics."""

from __future__ import annotations

import json

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..domain.enums import Area
from .base import main, open_store, progress_echo


@main.command("stats")
@click.option("--area", default=None, type=click.Choice([a.value for a in Area]))
@click.option(
    "--all-areas",
    is_flag=True,
    help="every area's tables in one pass (JSON: one object per area; CSV: every area's rows)",
)
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
def stats_cmd(
    settings: Settings, area: str | None, all_areas: bool, year: int, population: int | None, fmt: str
) -> None:
    """Produce an area's (or every area's) MAPPA annual statistics tables: as published (the register at the
    end of 1 April after the year) with any revisions since; a year still running is provisional
    (docs/statistics.md)."""
    from ..domain.errors import InvalidValue
    from ..statistics import render
    from ..statistics import service as statistics

    if (area is None) == (not all_areas):
        raise click.UsageError("name one area with --area, or every area with --all-areas (not both)")
    if all_areas:
        if population is not None or fmt == "html":
            raise click.UsageError("--population and --format html belong to one area: use them with --area")
        try:
            with (
                open_store(settings, whole_register=True) as store,
                store.unit_of_work(for_caller=True) as uow,
            ):
                every = statistics.read_tables_of_areas(
                    uow,
                    SystemActor("stats"),
                    [a.value for a in Area],
                    year,
                    progress=progress_echo("computing tables"),
                )
        except InvalidValue as exc:
            raise click.BadParameter(exc.message, param_hint="--year") from None
        if fmt == "json":
            click.echo(json.dumps(every, indent=2))
        else:
            click.echo(render.to_csv_areas(every.values()))
        return
    try:
        with open_store(settings, whole_register=True) as store, store.unit_of_work(for_caller=True) as uow:
            figures = statistics.read_tables(uow, SystemActor("stats"), str(area), year, population)
    except InvalidValue as exc:  # a year not yet begun: said, not a traceback
        raise click.BadParameter(exc.message, param_hint="--year") from None
    click.echo(
        json.dumps(figures, indent=2)
        if fmt == "json"
        else render.to_csv(figures)
        if fmt == "csv"
        else render.to_html(figures)
    )
