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
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option("--json", "as_json", is_flag=True, help="print the dashboard as JSON")
@click.option(
    "--worklist",
    "worklist_owner",
    default=None,
    help="also print the worklist of this offender manager (user id)",
)
@click.pass_obj
def quality_cmd(settings: Settings, area: str, as_json: bool, worklist_owner: str | None) -> None:
    """Run the data-quality rules over an area and print the dashboard (counts per rule, change since the last
    run)."""
    from ..quality import service as quality

    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        quality.run(
            uow, SystemActor("quality"), Area(area), dt.date.today(), progress=progress_echo("running rules")
        )
        board = quality.dashboard(uow, Area(area))
        work = quality.worklist(uow, Area(area), owner=worklist_owner) if worklist_owner else []
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
