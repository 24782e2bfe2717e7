"""`register retention`: disposal of archived records (policy: REGISTER_RETENTION_FILE)."""

from __future__ import annotations

import datetime as dt

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..retention import service as retention_service
from .base import main, open_store, progress_echo


@main.group()
def retention() -> None:
    """Retention of archived records (policy: REGISTER_RETENTION_FILE)."""


@retention.command("run")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="the date to dispose as of (default: today)",
)
@click.option("--dry-run", is_flag=True, help="list what is due; erase nothing")
@click.pass_obj
def retention_run(settings: Settings, today: dt.datetime | None, dry_run: bool) -> None:
    """Erase the personal content of archived records whose disposal date has come, unless a legal hold is
    set."""
    with open_store(settings) as store:
        report = retention_service.run(
            store,
            SystemActor("retention"),
            today=today.date() if today else None,
            dry_run=dry_run,
            progress=progress_echo("checking disposal dates"),
        )
    click.echo(
        f"{report.candidates} candidates in their disposal year, {len(report.due)} due on {report.today}"
        + (" (dry run: nothing erased)" if dry_run else f", {report.erased} records erased (tombstones kept)")
    )
    for nominal_id in report.due:
        click.echo(f"  {nominal_id}")
