"""Backup and restore: `register backup` and `register restore` (issue #21, point 5).

A backup is a directory (0700, files 0600) of four parts:
- the database: PostgreSQL `pg_dump --format=custom` of an exported snapshot (consistent by construction, the
  counts in the manifest read in that same snapshot); SQLite: the online backup API. Personal values in it are
  sealed as in the database: without the keys they are ciphertext.
- the audit anchors: every authentic anchor of the anchor store, read after the head was anchored and before
  the dump, so the dump's chain reaches each of them.
- the key bundle: the key-encryption keyring, the blind-index root and the audit root, wrapped for the
  operator under a passphrase (crypto/passphrase.py) and bound to the manifest. It can be written elsewhere
  (`keys_to`): kept apart from the dump, neither part alone opens a record.
- the manifest: register version, Alembic revision, schema, time, counts, and each part's SHA-256.

A restore checks everything before it writes anything (checksums, passphrase, manifest binding, schema known
to this code, an empty target unless `force`, a key directory that holds no other keys), then loads the
database in one transaction, writes the keys, migrates up if the backup is older, puts the anchors back, and
proves the result: counts equal the manifest's, the keys open the database (`verify_keys`), `audit verify`
passes against the anchors. Both are audited (`backup:database:create`, `backup:database:restore`) with counts
and ids, never personal data.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import importlib.metadata
import json
import logging
import os
import secrets
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from pydantic import ValidationError
from sqlalchemy import create_engine, make_url

from ..audit.anchors import Anchor
from ..audit.events import Action, AuditEntry, Outcome
from ..audit.tags import Tag
from ..config import Settings
from ..crypto import passphrase as wrapping
from ..crypto.keys import KeySet, LocalKeyring, private_dir, write_private
from ..domain.actors import Actor
from ..store.open import alembic_config, build_store, migrate
from ..store.store import Store
from ..store.sweep import Progress, no_progress
from . import repository as repo
from .repository import BackupFailed
from .schemas import (
    ANCHORS,
    DATABASE_FILES,
    KEYS,
    MANIFEST,
    AuditInfo,
    BackupResult,
    DatabaseInfo,
    KeysInfo,
    Manifest,
    Part,
    RestoreResult,
)

KEY_FILES = (LocalKeyring.FILE, KeySet.BLIND_FILE, KeySet.AUDIT_FILE)
log = logging.getLogger(__name__)
WRAPPING = "scrypt (N=2^17, r=8, p=1) + AES-256-GCM, bound to the manifest"


class RestoreRefused(Exception):
    """A restore refused before anything was written: the message says why and what to do."""


def operator() -> str:
    """Who ran the command, as the operating system knows them (recorded beside the actor)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.geteuid()}"


def register_version() -> str:
    try:
        return importlib.metadata.version("register")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _part(path: Path) -> Part:
    sha, size = _sha256(path)
    return Part(file=path.name, sha256=sha, bytes=size)


def _private_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        os.chmod(path, 0o600)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# ------------------------------------------------------------------------------------------------ backup


def backup(
    store: Store,
    actor: Actor,
    destination: Path,
    passphrase: str,
    *,
    keys_to: Path | None = None,
    progress: Progress = no_progress,
) -> BackupResult:
    """Write a backup into `destination` (a new directory). Audited, whether it succeeds or fails."""
    wrapping.check_strength(passphrase)
    if destination.exists():
        raise BackupFailed(f"{destination} already exists: a backup goes into a new directory")
    if keys_to is not None and keys_to.exists():
        raise BackupFailed(f"{keys_to} already exists: the key bundle goes into a new file")
    started = time.monotonic()
    backup_id = str(uuid.uuid4())
    work = destination.parent / f".{destination.name}.partial-{secrets.token_hex(4)}"
    try:
        result = _write_backup(store, destination, work, backup_id, passphrase, keys_to, progress)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        if keys_to is not None:
            keys_to.unlink(missing_ok=True)  # it did not exist when the backup started
        try:
            with store.unit_of_work() as uow:
                uow.audit.record(
                    AuditEntry(
                        Action.ADMINISTRATION,
                        Tag.BACKUP_DATABASE_CREATE,
                        actor,
                        outcome=Outcome.FAILED,
                        details={"backup_id": backup_id, "operator": operator(), "error": type(exc).__name__},
                    )
                )
        except Exception:  # the database itself may be what failed: the backup's own error is the one to see
            log.exception("the failed backup %s could not be audited", backup_id)
        raise
    result.seconds = time.monotonic() - started
    manifest = result.manifest
    with store.unit_of_work() as uow:
        uow.audit.record(
            AuditEntry(
                Action.ADMINISTRATION,
                Tag.BACKUP_DATABASE_CREATE,
                actor,
                details={
                    "backup_id": backup_id,
                    "operator": operator(),
                    "directory": str(destination),
                    "keys_apart": keys_to is not None,
                    "dialect": manifest.database.dialect,
                    "alembic_revision": manifest.database.alembic_revision,
                    "counts": manifest.counts,
                    "audit_head": manifest.audit.head_position,
                    "key_bundle_sha256": manifest.parts["keys"].sha256,
                },
            )
        )
    return result


def _write_backup(
    store: Store,
    destination: Path,
    work: Path,
    backup_id: str,
    passphrase: str,
    keys_to: Path | None,
    progress: Progress,
) -> BackupResult:
    # The head anchored now, the anchors read next, the dump after: every anchor copied is at or below the
    # dump's head, so the restored chain reaches each of them.
    store.seal(force_anchor=True)
    anchor_key = store.audit_keys.anchor
    anchors = [
        s.anchor for s in store.anchors.read() if s.anchor is not None and s.anchor.authentic(anchor_key)
    ]

    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    work.mkdir(mode=0o700)
    url = store.settings.resolved_database_url
    dialect = store.engine.dialect.name
    if dialect not in DATABASE_FILES:
        raise BackupFailed(f"cannot back up a {dialect} database: PostgreSQL and SQLite only")
    dump = work / DATABASE_FILES[dialect]
    if dialect == "sqlite":
        snapshot = repo.sqlite_copy_out(repo.sqlite_path(url), dump, progress)
        dump_format = "sqlite"
    else:
        with repo.pg_snapshot(url) as (snapshot_id, snapshot, major):
            bindir = repo.pg_bindir(major, store.settings.pg_bindir)
            repo.pg_dump(url, bindir, snapshot_id, dump, len(snapshot.counts), progress)
        dump_format = "pg_dump custom"
    if snapshot.revision is None:
        raise BackupFailed("the database has no Alembic revision: it is not a register database")
    behind = [a.position for a in anchors if a.position > snapshot.audit_head]
    if behind:
        raise BackupFailed(
            f"an anchor records audit chain position {max(behind)} but the dump's chain ends at "
            f"{snapshot.audit_head}: run `register audit verify` before backing up"
        )

    (work / ANCHORS).write_text("".join(a.to_json() + "\n" for a in anchors))
    os.chmod(work / ANCHORS, 0o600)
    key_dir = store.keys.keyring.path.parent
    bundle = {name: (key_dir / name).read_text() for name in KEY_FILES}
    manifest = Manifest(
        backup_id=backup_id,
        created_at=dt.datetime.now(dt.UTC).isoformat(),
        register_version=register_version(),
        database=DatabaseInfo(
            dialect=dialect,  # checked against DATABASE_FILES above
            format=dump_format,
            server_version=snapshot.server_version,
            alembic_revision=snapshot.revision,
            tables=sorted(snapshot.counts),
            schema_sha256=repo.schema_digest(snapshot.schema),
        ),
        counts=snapshot.counts,
        audit=AuditInfo(
            head_position=snapshot.audit_head,
            anchors=len(anchors),
            latest_anchor_position=max((a.position for a in anchors), default=None),
        ),
        keys=KeysInfo(wrapping=WRAPPING, kek_versions=store.keys.keyring.versions(), files=list(KEY_FILES)),
        parts={"database": _part(dump), "anchors": _part(work / ANCHORS)},
    )
    wrapped = json.dumps(
        wrapping.wrap(json.dumps(bundle).encode(), passphrase, manifest.binding()), indent=2
    ).encode()
    keys_file = keys_to if keys_to is not None else destination / KEYS
    if keys_to is not None:
        private_dir(keys_to.parent)
        _private_file(keys_to, wrapped)
    else:
        _private_file(work / KEYS, wrapped)
    sha, size = _sha256(keys_file if keys_to is not None else work / KEYS)
    manifest.parts["keys"] = Part(file=keys_file.name, sha256=sha, bytes=size)
    _private_file(work / MANIFEST, manifest.model_dump_json(indent=2).encode())
    _fsync_tree(work)
    os.rename(work, destination)
    return BackupResult(str(destination), manifest, str(keys_file), 0.0)


# ------------------------------------------------------------------------------------------------ restore


def read_manifest(source: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((source / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise RestoreRefused(f"{source / MANIFEST} not found: {source} is not a register backup") from None
    except ValidationError as exc:
        raise RestoreRefused(
            f"{source / MANIFEST} is not a manifest this register reads ({exc.error_count()} problems, "
            f"first: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}): made by a newer register, or "
            "altered"
        ) from None


def check_parts(source: Path, manifest: Manifest, keys_from: Path | None) -> dict[str, Path]:
    """Every part is where the manifest says and has the checksum it records."""
    found: dict[str, Path] = {}
    for name in ("database", "anchors", "keys"):
        part = manifest.parts.get(name)
        if part is None:
            raise RestoreRefused(f"the manifest names no {name} part: the backup is incomplete")
        if Path(part.file).name != part.file:
            raise RestoreRefused(f"the manifest's {name} part {part.file!r} is not a file name: altered")
        path = keys_from if name == "keys" and keys_from is not None else source / part.file
        if not path.is_file():
            raise RestoreRefused(f"{path} not found: the backup is incomplete (the {name} part)")
        sha, size = _sha256(path)
        if sha != part.sha256 or size != part.bytes:
            raise RestoreRefused(
                f"{path} does not match the manifest (SHA-256 {sha[:16]}..., {size} bytes; the manifest "
                f"records {part.sha256[:16]}..., {part.bytes} bytes): the backup was altered or damaged; "
                "nothing was written"
            )
        found[name] = path
    return found


def open_key_bundle(manifest: Manifest, keys_file: Path, passphrase: str) -> dict[str, str]:
    try:
        doc = json.loads(keys_file.read_bytes())
    except ValueError:
        raise RestoreRefused(f"{keys_file} is not a key bundle (not JSON)") from None
    plain = wrapping.unwrap(doc, passphrase, manifest.binding())
    bundle = json.loads(plain)
    if not isinstance(bundle, dict) or set(bundle) != set(KEY_FILES):
        raise RestoreRefused(f"the key bundle holds {sorted(bundle)}, not the register's key files")
    return {str(k): str(v) for k, v in bundle.items()}


def _check_revision(settings: Settings, manifest: Manifest) -> tuple[str, bool]:
    """The backup's revision must be one this code knows; returns the head and whether to migrate up."""
    script = ScriptDirectory.from_config(alembic_config(settings))
    revision = manifest.database.alembic_revision
    try:
        known = script.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise RestoreRefused(
            f"the backup's schema is at revision {revision}, which this register (version "
            f"{register_version()}) does not know: it was made by a newer register (version "
            f"{manifest.register_version}); restore it with that version or later. Nothing was written"
        )
    head = script.get_current_head() or revision
    return head, revision != head


def _check_target(url: str, force: bool) -> list[str]:
    shown = _shown(url)
    try:
        if url.startswith("sqlite") and not repo.sqlite_path(url).exists():
            return []
        tables = repo.table_names(url)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the target is the operator's to fix
        raise RestoreRefused(f"cannot reach the target database {shown}: {exc}") from None
    if tables and not force:
        raise RestoreRefused(
            f"the target database {shown} is not empty ({len(tables)} tables, e.g. "
            f"{', '.join(tables[:3])}): restore into a new, empty database, or give --force to replace its "
            "content. Nothing was written"
        )
    return tables


def _check_key_dir(key_dir: Path, bundle: dict[str, str]) -> list[str]:
    """Which key files to write: a key directory already holding other keys is refused (keys are never
    overwritten: a lost key is lost data), even with --force."""
    to_write = []
    for name, text in bundle.items():
        path = key_dir / name
        if not path.exists():
            to_write.append(name)
        elif path.read_text().strip() != text.strip():
            raise RestoreRefused(
                f"{path} already exists and holds other keys than the backup's: restore with "
                "REGISTER_KEY_DIR set to a new, empty directory (keys are never overwritten, even with "
                "--force). Nothing was written"
            )
    return to_write


def restore(
    settings: Settings,
    actor: Actor,
    source: Path,
    passphrase: str,
    *,
    keys_from: Path | None = None,
    force: bool = False,
    progress: Progress = no_progress,
) -> RestoreResult:
    """Restore the backup in `source` into the configured database, key directory and anchor store."""
    started = time.monotonic()
    manifest = read_manifest(source)
    parts = check_parts(source, manifest, keys_from)
    bundle = open_key_bundle(manifest, parts["keys"], passphrase)
    url = settings.resolved_database_url
    dialect = make_url(url).get_backend_name()
    if dialect != manifest.database.dialect:
        raise RestoreRefused(
            f"the backup is of a {manifest.database.dialect} database; the target {_shown(url)} is "
            f"{dialect}: restore into the same kind of database"
        )
    head, upgrade = _check_revision(settings, manifest)
    existing = _check_target(url, force)
    key_dir = settings.resolved_key_dir
    to_write = _check_key_dir(key_dir, bundle)

    # Everything is checked: write the database (one transaction), then the keys.
    if dialect == "sqlite":
        repo.sqlite_copy_in(parts["database"], repo.sqlite_path(url))
        progress(1, 1)
    else:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                major = repo.server_major(conn)
        finally:
            engine.dispose()
        repo.pg_restore(
            url,
            repo.pg_bindir(major, settings.pg_bindir),
            parts["database"],
            clean=bool(existing),
            tables=len(manifest.counts),
            progress=progress,
        )
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            restored = repo.read_snapshot(conn)
    finally:
        engine.dispose()
    private_dir(key_dir, tighten=True)
    for name in to_write:
        write_private(key_dir / name, bundle[name])
    if upgrade:
        migrate(settings)

    store = build_store(settings)  # checks the keys are this database's (verify_keys)
    try:
        anchors_added, warnings = _put_anchors_back(store, parts["anchors"], restored.audit_head)
        counts_match = restored.counts == manifest.counts
        if restored.revision != manifest.database.alembic_revision:
            warnings.append(
                f"the restored revision is {restored.revision}, not {manifest.database.alembic_revision}"
            )
        if not counts_match:
            differ = sorted(
                t
                for t in manifest.counts.keys() | restored.counts.keys()
                if manifest.counts.get(t) != restored.counts.get(t)
            )
            warnings.append(f"counts differ from the manifest's in {', '.join(differ)}")
        with store.unit_of_work() as uow:
            uow.audit.record(
                AuditEntry(
                    Action.ADMINISTRATION,
                    Tag.BACKUP_DATABASE_RESTORE,
                    actor,
                    outcome=Outcome.SUCCESS if counts_match else Outcome.FAILED,
                    details={
                        "backup_id": manifest.backup_id,
                        "backup_created_at": manifest.created_at,
                        "backup_register_version": manifest.register_version,
                        "operator": operator(),
                        "source": str(source),
                        "forced": bool(existing),
                        "revision_restored": manifest.database.alembic_revision,
                        "revision_now": head,
                        "counts": restored.counts,
                        "counts_match": counts_match,
                        "keys_written": to_write,
                        "anchors_added": anchors_added,
                    },
                )
            )
        store.seal(force_anchor=True)
        report = store.verify_audit()
    finally:
        store.dispose()
    return RestoreResult(
        backup_id=manifest.backup_id,
        database=_shown(url),
        revision_restored=manifest.database.alembic_revision,
        revision_now=head,
        counts=restored.counts,
        counts_match=counts_match,
        keys_written=to_write,
        anchors_added=anchors_added,
        audit_ok=report.ok,
        audit_problems=[f"{p.kind.upper()}: {p.message}" for p in report.findings],
        seconds=time.monotonic() - started,
        warnings=warnings,
    )


def _put_anchors_back(store: Store, anchors_file: Path, head: int) -> tuple[int, list[str]]:
    """Append the backup's anchors the target's anchor store lacks. An anchor store that already records a
    position beyond the restored head (a restore in place of a register that went on after the backup) is
    said: `audit verify` will report the events after the backup as cut off, which they are."""
    key = store.audit_keys.anchor
    present = {s.anchor.mac for s in store.anchors.read() if s.anchor is not None}
    beyond = [
        s.anchor.position
        for s in store.anchors.read()
        if s.anchor is not None and s.anchor.authentic(key) and s.anchor.position > head
    ]
    added = 0
    for line in anchors_file.read_text().splitlines():
        if not line.strip():
            continue
        anchor = Anchor.from_json(line)
        if anchor.mac not in present:
            store.anchors.append(anchor)
            present.add(anchor.mac)
            added += 1
    warnings = []
    if beyond:
        warnings.append(
            f"the anchor store {store.anchors.description} records audit chain position {max(beyond)}, "
            f"beyond the backup's head {head}: the events written after the backup are not in it, and `audit "
            "verify` reports them as cut off (TRUNCATED). Record this in the incident log"
        )
    return added, warnings


def describe(manifest: Manifest) -> dict[str, Any]:
    """A short summary for the command's output (no personal data: a manifest holds none)."""
    return {
        "backup_id": manifest.backup_id,
        "created_at": manifest.created_at,
        "dialect": manifest.database.dialect,
        "alembic_revision": manifest.database.alembic_revision,
        "nominals": manifest.counts.get("nominal", 0),
        "audit_events": manifest.counts.get("audit_event", 0),
    }
