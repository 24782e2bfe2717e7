"""`register show` and `register notification`: one record, and every record's derived notification
dates."""

from __future__ import annotations

import json
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
