"""`register quality`: the data-quality rules and their dashboard."""

from __future__ import annotations

import datetime as dt
import json

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..domain.enums import Area
from .base import main, open_store, progress_echo


@main.command("quality")
@click.option("--area", default=None, type=click.Choice([a.value for a in Area]))
@click.option(
    "--all-areas",
    is_flag=True,
    help="run the rules over every area in one pass (one run per area) and print each area's counts",
)
@click.option(
    "--json", "as_json", is_flag=True, help="print the dashboard as JSON (--all-areas: one per area)"
)
@click.option(
    "--worklist",
    "worklist_owner",
    default=None,
    help="also print the worklist of this offender manager (user id)",
)
@click.pass_obj
def quality_cmd(
    settings: Settings, area: str | None, all_areas: bool, as_json: bool, worklist_owner: str | None
) -> None:
    """Run the data-quality rules over an area (or every area) and print the dashboard (counts per rule,
    change since the last run)."""
    from ..quality import service as quality

    if (area is None) == (not all_areas):
        raise click.UsageError("name one area with --area, or every area with --all-areas (not both)")
    if all_areas:
        if worklist_owner:
            raise click.UsageError("--worklist belongs to one area: use it with --area")
        with open_store(settings, whole_register=True) as store, store.unit_of_work(for_caller=True) as uow:
            runs = quality.run_areas(
                uow, SystemActor("quality"), None, dt.date.today(), progress=progress_echo("running rules")
            )
            boards = {a.value: quality.dashboard(uow, a) for a in runs}
        if as_json:
            click.echo(json.dumps(boards, indent=2))
            return
        click.echo(f"{'area':<20} {'high':>6} {'medium':>7} {'low':>6}  run")
        for name, board in boards.items():
            sev = board["by_severity"]
            run = board["run"]["id"] if board["run"] else ""
            click.echo(
                f"{name:<20} {sev.get('high', 0):>6} {sev.get('medium', 0):>7} {sev.get('low', 0):>6}  {run}"
            )
        return
    one = Area(str(area))
    with open_store(settings, whole_register=True) as store, store.unit_of_work(for_caller=True) as uow:
        quality.run(
            uow, SystemActor("quality"), one, dt.date.today(), progress=progress_echo("running rules")
        )
        board = quality.dashboard(uow, one)
        work = quality.worklist(uow, one, owner=worklist_owner) if worklist_owner else []
    if as_json:
        click.echo(json.dumps({**board, "worklist": work} if worklist_owner else board, indent=2))
        return
    click.echo(f"{'rule':<26} {'severity':<8} {'count':>6} {'change':>7}  who")
    for row in board["rules"]:
        change = "" if row["change"] is None else f"{row['change']:+d}"
        click.echo(f"{row['rule']:<26} {row['severity']:<8} {row['count']:>6} {change:>7}  {row['who']}")
    click.echo("by severity: " + ", ".join(f"{k} {v}" for k, v in board["by_severity"].items()))
    for w in work:
        click.echo(f"  {w['severity']:<6} {w['rule']:<26} {w['record']}")
