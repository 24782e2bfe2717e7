"""Backup and restore (issue #21, point 5).

The restore drill on the real PostgreSQL server and Elasticsearch node: a register backed up, restored into a
fresh database, then proven whole (`audit verify` against the anchors, every record opens and equals the
original, a reindex shows no drift, the counts are the manifest's). A SQLite round trip with the key bundle
kept apart. The refusals: a tampered part or manifest, a non-empty target, a wrong passphrase, a newer schema,
a key directory holding other keys; none of them writes anything."""

from __future__ import annotations

import json
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from sqlalchemy import create_engine, select, text

from register.audit.tags import Tag
from register.backup import service as backup_service
from register.backup.repository import read_snapshot
from register.backup.schemas import KEYS, MANIFEST, Manifest
from register.cli import main
from register.config import Settings
from register.crypto import passphrase as wrapping
from register.domain.actors import SystemActor
from register.domain.record import Section
from register.search import indexer as idx
from register.search.indexer import IndexSpec, SearchIndex
from register.store import models as m
from register.store.open import alembic_config, build_store
from register.store.records import id_batches
from register.store.store import Store
from register.synthetic import service as synthetic
from tests.factories import add, create

PASSPHRASE = "correct horse battery staple, restored"
MARK = {"kind": "scar", "location": "face", "description": "over left eye"}


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_BACKUP_PASSPHRASE": "",
    }


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    """A `register` command as an operator runs it, against these settings: (exit code, what it printed; with
    --json only standard output, since progress goes to standard error)."""
    result = CliRunner().invoke(main, list(args), env=env_of(settings))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout if "--json" in args else result.output


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return path


def populate(store: Store) -> None:
    """A small register through the service layer: synthetic people (`register generate`), plus a record
    written by an officer, with an item added."""
    synthetic.generate(store, 25, seed=21)
    with store.unit_of_work() as uow:
        nid = create(uow)
        add(uow, nid, Section.MARKS, MARK, 1)
    store.seal(force_anchor=True)


def opened(store: Store) -> dict[str, Any]:
    """Every record, opened with its data key (a value that does not decrypt raises)."""
    records: dict[str, Any] = {}
    for ids in id_batches(store.session_factory, 200):
        with store.unit_of_work() as uow:
            for record in uow.nominals.load_many(ids, chronology=True):
                records[str(record.id)] = record.to_dict()
    return records


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return read_snapshot(conn).counts
    finally:
        engine.dispose()


def events(store: Store, tag: Tag) -> list[tuple[str, str, dict[str, Any]]]:
    """(actor, outcome, details) of each event with the tag."""
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.actor_user, m.AuditEvent.outcome, m.AuditEvent.details).where(
                m.AuditEvent.tag == tag.value
            )
        ).all()
    return [(r.actor_user, r.outcome, json.loads(r.details or "{}")) for r in rows]


def target_settings(tmp_path: Path, url: str) -> Settings:
    """Another host: its own database, an empty key directory and an empty anchor store."""
    return Settings(
        database_url=url,
        var_dir=tmp_path / "restored-var",
        key_dir=tmp_path / "restored-keys",
        rate_limit_per_user="",
        rate_limit_per_address="",
    )


def nothing_written(target: Settings) -> None:
    assert not target.resolved_key_dir.exists()
    assert not target.resolved_audit_anchor_file.exists()


# ------------------------------------------------------------------------------------------ the drill


@pytest.fixture
def empty_pg_database(pg_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A new, empty database on the suite's PostgreSQL server (no schema: nothing migrated into it)."""
    name = f"restored_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_server.url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def search_index(es_node) -> Iterator[SearchIndex]:  # type: ignore[no-untyped-def]
    alias = f"t-restore-{uuid.uuid4().hex[:10]}"
    index = SearchIndex(
        Elasticsearch(es_node.url, request_timeout=30, max_retries=0),
        IndexSpec.load(alias, Settings().search_index_definition),
    )
    yield index
    index.client.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
    index.client.close()


@pytest.mark.postgres_only
def test_the_restore_drill_on_postgresql(
    store: Store,
    settings: Settings,
    tmp_path: Path,
    passphrase_file: Path,
    empty_pg_database: str,
    search_index: SearchIndex,
) -> None:
    populate(store)
    before = opened(store)
    assert len(before) == 26

    code, out = cli(
        settings, "backup", str(tmp_path / "bk"), "--passphrase-file", str(passphrase_file), "--json"
    )
    assert code == 0, out
    made = json.loads(out)
    manifest = Manifest.model_validate(made["manifest"])
    assert manifest.database.dialect == "postgresql" and manifest.database.format == "pg_dump custom"
    assert manifest.counts["nominal"] == 26
    assert manifest.audit.latest_anchor_position == manifest.audit.head_position > 0
    # 0700 directory, 0600 files; the key bundle holds no key in clear
    assert stat.S_IMODE((tmp_path / "bk").stat().st_mode) == 0o700
    for part in (tmp_path / "bk").iterdir():
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
    bundle = (tmp_path / "bk" / KEYS).read_text()
    for key_file in ("kek.json", "blind-index.key", "audit-chain.key"):
        secret = (settings.resolved_key_dir / key_file).read_text().strip()
        assert secret not in bundle
    # the backup is audited in the register it copied: who, counts; no personal data
    ((who, outcome, details),) = events(store, Tag.BACKUP_DATABASE_CREATE)
    assert (who, outcome) == ("system:backup", "success")
    assert details["counts"]["nominal"] == 26 and details["backup_id"] == manifest.backup_id
    assert "Zabrowski" not in json.dumps(details)

    target = target_settings(tmp_path, empty_pg_database)
    code, out = cli(
        target, "restore", str(tmp_path / "bk"), "--passphrase-file", str(passphrase_file), "--json"
    )
    assert code == 0, out
    result = json.loads(out)
    assert result["ok"] and result["counts_match"] and result["audit"]["ok"], result
    assert result["keys_written"] == ["kek.json", "blind-index.key", "audit-chain.key"]
    assert result["anchors_added"] == manifest.audit.anchors

    # counts equal: every table as the manifest recorded it (the restore's own audit event and seal aside)
    now = counts(empty_pg_database)
    assert now["audit_event"] == manifest.counts["audit_event"] + 1
    assert {t: n for t, n in now.items() if not t.startswith("audit_")} == {
        t: n for t, n in manifest.counts.items() if not t.startswith("audit_")
    }

    # `audit verify` passes against the anchors the backup carried (and the restore's own)
    code, out = cli(target, "audit", "verify", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] and report["problems"] == []
    assert report["anchors"]["count"] == manifest.audit.anchors + 1

    restored = build_store(target)  # the keys are this database's (verify_keys)
    try:
        # every record opens, and is the record that was backed up
        assert opened(restored) == before
        ((who, outcome, details),) = events(restored, Tag.BACKUP_DATABASE_RESTORE)
        assert (who, outcome) == ("system:restore", "success")
        assert details["backup_id"] == manifest.backup_id and details["counts_match"] is True
        assert "Zabrowski" not in json.dumps(details)
        # a reindex into the real Elasticsearch node from the restored database: no drift
        name, indexed = idx.reindex(restored, search_index, workers=1)
        assert indexed == 26
        drift = idx.check(restored, search_index)
        assert (drift.missing, drift.stale, drift.extra) == ([], [], [])
    finally:
        restored.dispose()


@pytest.fixture
def migrated_pg_database(pg_server, pg_template: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Another register's database on the same server: migrated, so not empty."""
    name = f"other_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield pg_server.url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres_only
def test_a_non_empty_postgresql_target_is_refused_then_replaced_with_force(
    store: Store, settings: Settings, tmp_path: Path, passphrase_file: Path, migrated_pg_database: str
) -> None:
    populate(store)
    assert cli(settings, "backup", str(tmp_path / "bk"), "--passphrase-file", str(passphrase_file))[0] == 0
    target = target_settings(tmp_path, migrated_pg_database)
    before = counts(migrated_pg_database)
    code, out = cli(target, "restore", str(tmp_path / "bk"), "--passphrase-file", str(passphrase_file))
    assert code == 1 and "is not empty" in out and "--force" in out
    assert counts(migrated_pg_database) == before
    nothing_written(target)

    code, out = cli(
        target, "restore", str(tmp_path / "bk"), "--passphrase-file", str(passphrase_file), "--force"
    )
    assert code == 0, out
    restored = build_store(target)
    try:
        assert opened(restored) == opened(store)
        assert restored.verify_audit().ok
    finally:
        restored.dispose()


@pytest.mark.postgres_only
def test_a_postgresql_backup_taken_while_the_register_writes_is_consistent(
    store: Store, settings: Settings, tmp_path: Path, empty_pg_database: str
) -> None:
    """Records are created throughout the backup: the dump and the manifest's counts are one snapshot, so the
    restored register holds exactly the manifest's counts and its chain verifies."""
    populate(store)
    stop = threading.Event()
    written: list[uuid.UUID] = []

    def write() -> None:
        while not stop.is_set():
            with store.unit_of_work() as uow:
                written.append(create(uow))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 3:
            time.sleep(0.05)
        before = len(written)
        made = backup_service.backup(store, SystemActor("backup"), tmp_path / "bk", PASSPHRASE)
        after = len(written)
    finally:
        stop.set()
        writer.join()
    assert after > before  # the register wrote while the backup ran
    assert 26 + before <= made.manifest.counts["nominal"] <= 26 + after

    target = target_settings(tmp_path, empty_pg_database)
    result = restore(target, tmp_path / "bk")
    assert result.ok, result
    assert result.counts["nominal"] == made.manifest.counts["nominal"]
    restored = build_store(target)
    try:
        assert len(opened(restored)) == made.manifest.counts["nominal"]
    finally:
        restored.dispose()


# ---------------------------------------------------------------------------------------------- SQLite


@pytest.mark.sqlite_only
def test_a_sqlite_round_trip_with_the_key_bundle_kept_apart(
    store: Store, settings: Settings, tmp_path: Path, passphrase_file: Path
) -> None:
    populate(store)
    before = opened(store)
    apart = tmp_path / "elsewhere" / "register-keys.json"
    code, out = cli(
        settings,
        "backup",
        str(tmp_path / "bk"),
        "--keys-to",
        str(apart),
        "--passphrase-file",
        str(passphrase_file),
        "--json",
    )
    assert code == 0, out
    manifest = Manifest.model_validate(json.loads(out)["manifest"])
    assert manifest.database.dialect == "sqlite"
    assert not (tmp_path / "bk" / KEYS).exists() and stat.S_IMODE(apart.stat().st_mode) == 0o600
    assert stat.S_IMODE(apart.parent.stat().st_mode) == 0o700

    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    # without the key bundle kept apart, the restore cannot start
    code, _ = cli(target, "restore", str(tmp_path / "bk"), "--passphrase-file", str(passphrase_file))
    assert code == 1
    assert not (tmp_path / "restored" / "register.db").exists()
    nothing_written(target)

    code, out = cli(
        target,
        "restore",
        str(tmp_path / "bk"),
        "--keys",
        str(apart),
        "--passphrase-file",
        str(passphrase_file),
    )
    assert code == 0, out
    assert "counts match the manifest" in out and "audit log intact" in out
    assert stat.S_IMODE((tmp_path / "restored" / "register.db").stat().st_mode) == 0o600
    restored = build_store(target)
    try:
        assert opened(restored) == before
        assert restored.verify_audit().ok
    finally:
        restored.dispose()
    code, out = cli(target, "audit", "verify")
    assert code == 0 and "audit log intact" in out


@pytest.fixture
def backed_up(store: Store, settings: Settings, tmp_path: Path) -> Path:
    populate(store)
    backup_service.backup(store, SystemActor("backup"), tmp_path / "bk", PASSPHRASE)
    return tmp_path / "bk"


def restore(target: Settings, source: Path, phrase: str = PASSPHRASE, **kw: Any) -> Any:
    return backup_service.restore(target, SystemActor("restore"), source, phrase, **kw)


@pytest.mark.sqlite_only
def test_a_tampered_part_is_refused_and_nothing_is_written(backed_up: Path, tmp_path: Path) -> None:
    dump = backed_up / "database.sqlite"
    raw = bytearray(dump.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    dump.write_bytes(bytes(raw))
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    with pytest.raises(backup_service.RestoreRefused, match="does not match the manifest"):
        restore(target, backed_up)
    assert not (tmp_path / "restored").exists()
    nothing_written(target)


@pytest.mark.sqlite_only
def test_a_manifest_edited_after_the_backup_is_refused(backed_up: Path, tmp_path: Path) -> None:
    doc = json.loads((backed_up / MANIFEST).read_text())
    doc["counts"]["nominal"] += 1  # the parts' checksums still match
    (backed_up / MANIFEST).write_text(json.dumps(doc))
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    with pytest.raises(wrapping.WrappedSecretAltered, match="does not match the manifest"):
        restore(target, backed_up)
    assert not (tmp_path / "restored").exists()
    nothing_written(target)


@pytest.mark.sqlite_only
def test_a_wrong_passphrase_is_refused_with_a_clear_message_and_nothing_is_written(
    backed_up: Path, tmp_path: Path
) -> None:
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    wrong = tmp_path / "wrong"
    wrong.write_text("correct horse battery stapler\n")
    code, out = cli(target, "restore", str(backed_up), "--passphrase-file", str(wrong), "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["ok"] is False and answer["error"].startswith("wrong passphrase")
    assert "nothing was written" in answer["error"]
    assert not (tmp_path / "restored").exists()
    nothing_written(target)


@pytest.mark.sqlite_only
def test_a_non_empty_target_is_refused_unless_forced(
    backed_up: Path, tmp_path: Path, sqlite_template: Path
) -> None:
    (tmp_path / "restored").mkdir()
    shutil.copy(sqlite_template, tmp_path / "restored" / "register.db")
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    before = (tmp_path / "restored" / "register.db").read_bytes()
    with pytest.raises(backup_service.RestoreRefused, match="is not empty"):
        restore(target, backed_up)
    assert (tmp_path / "restored" / "register.db").read_bytes() == before
    nothing_written(target)
    result = restore(target, backed_up, force=True)
    assert result.ok and result.counts["nominal"] == 26


@pytest.mark.sqlite_only
def test_a_key_directory_holding_other_keys_is_refused_even_with_force(
    backed_up: Path, tmp_path: Path
) -> None:
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    target.resolved_key_dir.mkdir(mode=0o700)
    (target.resolved_key_dir / "kek.json").write_text("{}")
    with pytest.raises(backup_service.RestoreRefused, match="holds other keys"):
        restore(target, backed_up, force=True)
    assert (target.resolved_key_dir / "kek.json").read_text() == "{}"
    assert not (tmp_path / "restored").exists()


@pytest.mark.sqlite_only
def test_a_backup_of_a_newer_schema_is_refused(backed_up: Path, tmp_path: Path) -> None:
    """A backup as a newer register writes it: consistent (checksums, binding), at a revision this code does
    not know."""
    manifest = backup_service.read_manifest(backed_up)
    bundle = backup_service.open_key_bundle(manifest, backed_up / KEYS, PASSPHRASE)
    newer = manifest.model_copy(deep=True)
    newer.database.alembic_revision = "9999"
    newer.register_version = "9.0.0"
    (backed_up / KEYS).unlink()
    (backed_up / KEYS).write_text(
        json.dumps(wrapping.wrap(json.dumps(bundle).encode(), PASSPHRASE, newer.binding(), n=2**14))
    )
    newer.parts["keys"] = backup_service._part(backed_up / KEYS)
    (backed_up / MANIFEST).write_text(newer.model_dump_json())
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    with pytest.raises(backup_service.RestoreRefused, match="made by a newer register"):
        restore(target, backed_up)
    assert not (tmp_path / "restored").exists()
    nothing_written(target)


@pytest.mark.sqlite_only
def test_an_older_backup_is_migrated_up_on_restore(backed_up: Path, tmp_path: Path) -> None:
    """The code knows a revision the backup does not have (a copy of the migrations with one more): the
    restore loads the backup, then migrates it up."""
    from alembic.script import ScriptDirectory

    migrations = tmp_path / "migrations"
    shutil.copytree(Settings().migrations_dir, migrations)
    shutil.copy(Settings().migrations_dir.parent / "alembic.ini", tmp_path / "alembic.ini")
    head = ScriptDirectory.from_config(alembic_config(Settings())).get_current_head()
    (migrations / "versions" / "9001_drill_probe.py").write_text(
        f'"""a later revision, for the drill"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "9001"\ndown_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade() -> None:\n"
        '    op.create_table("drill_probe", sa.Column("id", sa.Integer, primary_key=True))\n\n\n'
        "def downgrade() -> None:\n"
        '    op.drop_table("drill_probe")\n'
    )
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}").model_copy(
        update={"migrations_dir": migrations}
    )
    result = restore(target, backed_up)
    assert result.ok, result
    assert (result.revision_restored, result.revision_now) == (head, "9001")
    assert "drill_probe" in counts(target.resolved_database_url)


@pytest.mark.sqlite_only
def test_a_short_passphrase_is_refused_before_anything_is_written(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    code, out = cli(settings, "backup", str(tmp_path / "bk"))
    assert code == 2 and "no passphrase" in out  # none given, and no terminal to ask on
    short = tmp_path / "short"
    short.write_text("hunter2\n")
    code, out = cli(settings, "backup", str(tmp_path / "bk"), "--passphrase-file", str(short), "--json")
    assert code == 1 and "at least 12 characters" in json.loads(out)["error"]
    assert not (tmp_path / "bk").exists()
    assert events(store, Tag.BACKUP_DATABASE_CREATE) == []


@pytest.mark.sqlite_only
def test_a_backup_that_fails_is_audited_as_failed_and_leaves_nothing(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    apart = tmp_path / "keys-apart" / "bundle.json"
    with pytest.raises(OSError):
        backup_service.backup(
            store, SystemActor("backup"), tmp_path / "a-file" / "bk", PASSPHRASE, keys_to=apart
        )
    ((who, outcome, details),) = events(store, Tag.BACKUP_DATABASE_CREATE)
    assert (who, outcome) == ("system:backup", "failed") and details["error"] == "FileExistsError"
    assert not apart.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.sqlite_only
def test_a_key_directory_already_holding_the_same_keys_is_used_as_it_is(
    backed_up: Path, settings: Settings, tmp_path: Path
) -> None:
    """A restore on the host that made the backup (its key directory holds these very keys): nothing to
    write there, and the restored register opens with them."""
    target = Settings(
        database_url=f"sqlite:///{tmp_path / 'restored' / 'register.db'}",
        var_dir=tmp_path / "restored-var",
        key_dir=settings.resolved_key_dir,
    )
    before = {p.name: p.read_bytes() for p in settings.resolved_key_dir.iterdir()}
    result = restore(target, backed_up)
    assert result.ok and result.keys_written == []
    assert {p.name: p.read_bytes() for p in settings.resolved_key_dir.iterdir()} == before


@pytest.mark.sqlite_only
def test_a_scheduled_backup_writes_a_new_dated_directory_each_run_and_keeps_the_keys_apart(
    store: Store, settings: Settings, tmp_path: Path, passphrase_file: Path
) -> None:
    """The nightly job (deploy/k8s/operations.yaml) runs `backup --dated` into the same two volumes each time:
    each run must land in a directory of its own, with its key bundle apart, and the result must restore."""
    populate(store)
    dumps, keys = tmp_path / "backups", tmp_path / "key-backups"
    code, out = cli(settings, "backup", str(dumps), "--dated", "--passphrase-file", str(passphrase_file))
    assert code == 2 and "DESTINATION is a directory that exists" in out  # nothing invented where none was
    dumps.mkdir()
    keys.mkdir()
    written = []
    for _ in range(2):
        args = [
            "backup",
            str(dumps),
            "--dated",
            "--keys-to",
            str(keys),
            "--passphrase-file",
            str(passphrase_file),
        ]
        code, out = cli(settings, *args, "--json")
        assert code == 0, out
        written.append(Path(json.loads(out)["directory"]))
        time.sleep(1.1)  # the directory is named to the second
    assert len(set(written)) == 2 and all(
        d.parent == dumps and d.name.startswith("register-") for d in written
    )
    assert sorted(p.name for p in keys.iterdir()) == sorted(f"{d.name}.keys.json" for d in written)
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'register.db'}")
    latest = written[-1]
    code, out = cli(
        target,
        "restore",
        str(latest),
        "--keys",
        str(keys / f"{latest.name}.keys.json"),
        "--passphrase-file",
        str(passphrase_file),
    )
    assert code == 0 and "audit log intact" in out, out
