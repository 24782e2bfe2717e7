"""`register backup` and `register restore`: the database, the key bundle wrapped under a passphrase, the
audit anchors and a manifest (docs/operations.md, "Backup and restore")."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from ..backup import service as backup_service
from ..backup.repository import BackupFailed
from ..config import Settings
from ..crypto.keys import KeyProblem
from ..domain import clock
from ..domain.actors import SystemActor
from ..store.open import NotMigrated
from .base import main, open_store, progress_echo

PASSPHRASE_HELP = (
    "file whose first line is the passphrase (default: REGISTER_BACKUP_PASSPHRASE, else a prompt); never "
    "give the passphrase itself on the command line"
)


def _passphrase(settings: Settings, passphrase_file: Path | None, *, confirm: bool) -> str:
    if passphrase_file is not None:
        lines = passphrase_file.read_text().splitlines()
        return lines[0] if lines else ""
    if settings.backup_passphrase:
        return settings.backup_passphrase
    if not sys.stdin.isatty():
        raise click.UsageError("no passphrase: set REGISTER_BACKUP_PASSPHRASE or give --passphrase-file")
    return str(click.prompt("backup passphrase", hide_input=True, confirmation_prompt=confirm))


def _fail(as_json: bool, message: str) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": message}, indent=2))
        sys.exit(1)
    raise click.ClickException(message)


def _run(as_json: bool, action: Callable[[], Any]) -> Any:
    """The errors an operator acts on become a message (JSON with --json) and exit code 1."""
    try:
        return action()
    except (BackupFailed, backup_service.RestoreRefused, KeyProblem, NotMigrated) as exc:
        _fail(as_json, str(exc))
    except OSError as exc:  # a directory that cannot be written, a full disk
        _fail(as_json, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


@main.command("backup")
@click.argument("destination", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--keys-to",
    type=click.Path(path_type=Path),
    default=None,
    help="write the wrapped key bundle to this file, not into DESTINATION (keep it apart from the dump); "
    "with --dated, a directory to write it into",
)
@click.option(
    "--dated",
    is_flag=True,
    help="for a schedule: DESTINATION (and --keys-to) are directories that exist; the backup goes into a new "
    "one named register-<UTC time>, the key bundle into register-<UTC time>.keys.json",
)
@click.option(
    "--passphrase-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), help=PASSPHRASE_HELP
)
@click.option("--json", "as_json", is_flag=True, help="print the result (the manifest) as JSON")
@click.pass_obj
def backup(
    settings: Settings,
    destination: Path,
    keys_to: Path | None,
    dated: bool,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Back up the register into DESTINATION, a new directory (0700): a consistent database dump, the audit
    anchors, the key bundle wrapped under a passphrase, and a manifest with each part's SHA-256."""
    if dated:
        for parent, option in ((destination, "DESTINATION"), (keys_to, "--keys-to")):
            if parent is not None and not parent.is_dir():
                raise click.UsageError(f"with --dated, {option} is a directory that exists: {parent}")
        stamp = "register-" + clock.now().strftime("%Y%m%dT%H%M%SZ")
        destination = destination / stamp
        keys_to = keys_to / f"{stamp}.keys.json" if keys_to is not None else None
    elif keys_to is not None and keys_to.is_dir():
        raise click.UsageError(f"--keys-to names a file to write (a directory only with --dated): {keys_to}")
    passphrase = _passphrase(settings, passphrase_file, confirm=True)
    with open_store(settings, whole_register=True) as store:
        result = _run(
            as_json,
            lambda: backup_service.backup(
                store,
                SystemActor("backup"),
                destination,
                passphrase,
                keys_to=keys_to,
                progress=progress_echo("backing up"),
            ),
        )
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
        return
    manifest = result.manifest
    counts = manifest.counts
    click.echo(
        f"backup {manifest.backup_id} written to {result.directory} in {result.seconds:.1f} s: "
        f"{manifest.database.dialect} at schema {manifest.database.alembic_revision}, "
        f"{counts.get('nominal', 0)} records, {counts.get('audit_event', 0)} audit events, "
        f"{manifest.audit.anchors} anchors (latest at position {manifest.audit.latest_anchor_position})"
    )
    click.echo(
        f"key bundle (wrapped under the passphrase): {result.keys_file}"
        + ("" if keys_to else " - move it apart from the dump, or use --keys-to")
    )


@main.command("restore")
@click.argument("source", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option(
    "--keys",
    "keys_from",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="the wrapped key bundle, if it was kept apart from SOURCE",
)
@click.option(
    "--passphrase-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), help=PASSPHRASE_HELP
)
@click.option("--force", is_flag=True, help="replace the content of a target database that is not empty")
@click.option("--json", "as_json", is_flag=True, help="print the result and its checks as JSON")
@click.pass_obj
def restore(
    settings: Settings,
    source: Path,
    keys_from: Path | None,
    passphrase_file: Path | None,
    force: bool,
    as_json: bool,
) -> None:
    """Restore the backup in SOURCE into the configured database (REGISTER_DATABASE_URL), key directory and
    anchor store. Refused, with nothing written, if a checksum or the passphrase is wrong, the backup's schema
    is newer than this register, the key directory holds other keys, or the database is not empty (unless
    --force). Exits 1 if a check after the restore fails (counts, `audit verify`)."""
    passphrase = _passphrase(settings, passphrase_file, confirm=False)
    result = _run(
        as_json,
        lambda: backup_service.restore(
            settings,
            SystemActor("restore"),
            source,
            passphrase,
            keys_from=keys_from,
            force=force,
            progress=progress_echo("restoring"),
        ),
    )
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        migrated = result.revision_now != result.revision_restored
        click.echo(
            f"backup {result.backup_id} restored into {result.database} in {result.seconds:.1f} s: schema "
            f"{result.revision_restored}" + (f", migrated to {result.revision_now}" if migrated else "")
        )
        click.echo(
            f"{result.counts.get('nominal', 0)} records; counts "
            f"{'match' if result.counts_match else 'DIFFER FROM'} the manifest; key files written: "
            f"{', '.join(result.keys_written) or 'none (already there)'}; "
            f"{result.anchors_added} anchors put back"
        )
        for warning in result.warnings:
            click.echo(f"WARNING: {warning}")
        for problem in result.audit_problems:
            click.echo(problem)
        click.echo("audit log intact" if result.audit_ok else "AUDIT VERIFY FAILED after the restore")
        click.echo("next: `register reindex` then `register index-check` if Elasticsearch is configured")
    sys.exit(0 if result.ok else 1)
