"""`register retention`: disposal of archived records (policy: REGISTER_RETENTION_FILE)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..retention import service as retention_service
from .base import json_option, main, open_store, progress_echo, report


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
@json_option
@click.pass_obj
def retention_run(settings: Settings, today: dt.datetime | None, dry_run: bool, as_json: bool) -> None:
    """Erase the personal content of archived records whose disposal date has come, unless a legal hold is
    set."""
    with open_store(settings, whole_register=True) as store:
        done = retention_service.run(
            store,
            SystemActor("retention"),
            today=today.date() if today else None,
            dry_run=dry_run,
            progress=progress_echo("checking disposal dates"),
        )
    report(done.model_dump(mode="json"), as_json, _run_lines)


def _run_lines(r: dict[str, Any]) -> list[str]:
    head = f"{r['candidates']} candidates in their disposal year, {len(r['due'])} due on {r['today']}" + (
        " (dry run: nothing erased)" if r["dry_run"] else f", {r['erased']} records erased (tombstones kept)"
    )
    return [head] + [f"  {nominal_id}" for nominal_id in r["due"]]
