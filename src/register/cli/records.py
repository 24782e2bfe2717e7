"""`register show`, `register notification` and `register facts-check`: one record, and every record's derived
notification dates and caseload facts."""

from __future__ import annotations

import json
import sys
import uuid

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..nominals import service as nominal_service
from .base import json_option, main, open_store, progress_echo, report


@main.command("show")
@click.argument("nominal_id", type=click.UUID)
@click.option("--purpose", required=True, help="why the record is being read (recorded in the audit log)")
@click.pass_obj
def show(settings: Settings, nominal_id: uuid.UUID, purpose: str) -> None:
    """Print a whole record as JSON (an audited consultation)."""
    with open_store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        record = nominal_service.read_record(uow, SystemActor("cli"), nominal_id, purpose=purpose)
    click.echo(json.dumps(record.to_dict(), indent=2))


@main.group()
def notification() -> None:
    """Notification requirements (Sexual Offences Act 2003 s.82), derived from each record."""


@notification.command("refresh")
@json_option
@click.pass_obj
def notification_refresh(settings: Settings, as_json: bool) -> None:
    """Recompute every record's derived notification dates."""
    with open_store(settings, whole_register=True) as store:
        count = nominal_service.refresh_notifications(
            store, progress=progress_echo("recomputing notification dates")
        )
    report(
        {"records": count}, as_json, lambda r: [f"notification dates recomputed for {r['records']} records"]
    )


@main.command("facts-check")
@click.option("--repair", is_flag=True, help="work the differing records' facts out again")
@click.option(
    "--strict",
    is_flag=True,
    help="exit 1 if any record differed, even once repaired (the nightly job: mended, and an operator told)",
)
@json_option
@click.pass_obj
def facts_check(settings: Settings, repair: bool, strict: bool, as_json: bool) -> None:
    """Compare every record's kept caseload facts (what the caseload and the workload count as due) with its
    items and entries; exit 1 if any differ (after --repair: if any still differ; with --strict: if any
    differed)."""
    from ..caseload import service as caseload

    with open_store(settings, whole_register=True) as store, store.unit_of_work() as uow:
        checked = caseload.check_facts(uow, repair=repair)
    result = {"stale": [str(i) for i in checked.stale], "after_repair": checked.after_repair}
    report(
        result,
        as_json,
        lambda r: [
            f"stale {len(r['stale'])}"
            + (f"; after repair: {r['after_repair']} differences" if r["after_repair"] is not None else "")
        ],
    )
    sys.exit(1 if (checked.after_repair if repair and not strict else len(checked.stale)) else 0)
