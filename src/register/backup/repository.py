"""The database side of a backup: a consistent copy out, a copy back in, counts and the schema of what was
copied. PostgreSQL: `pg_dump` (custom format) and `pg_restore` from the server's own binaries; SQLite: the
online backup API. No personal value is ever read here: the copies hold sealed values as they are."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, column, create_engine, func, inspect, make_url, select, table

from ..store.sweep import Progress, no_progress


class BackupFailed(Exception):
    """A dump or a restore that did not complete: the message says why and what was (not) written."""


@dataclass(frozen=True)
class Snapshot:
    """What a backup holds, read in the same snapshot as the dump."""

    revision: str | None
    counts: dict[str, int]
    schema: dict[str, list[str]]  # table -> its columns, sorted
    server_version: str
    audit_head: int  # the audit chain's head position (0: nothing sealed)


def schema_digest(schema: dict[str, list[str]]) -> str:
    text = "\n".join(f"{t}:{','.join(cols)}" for t, cols in sorted(schema.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def read_snapshot(conn: Connection) -> Snapshot:
    """Counts of every table (one `count(*)` each: set-based), the columns, and the Alembic revision."""
    inspector = inspect(conn)
    names = sorted(n for n in inspector.get_table_names() if not n.startswith("sqlite_"))
    counts = {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names}
    schema = {n: sorted(c["name"] for c in inspector.get_columns(n)) for n in names}
    heads = MigrationContext.configure(conn).get_current_heads() if "alembic_version" in names else ()
    if conn.dialect.name == "postgresql":
        version = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
    else:
        version = sqlite3.sqlite_version
    head = (
        conn.execute(select(func.max(column("position"))).select_from(table("audit_seal"))).scalar_one() or 0
        if "audit_seal" in names
        else 0
    )
    return Snapshot(heads[0] if heads else None, counts, schema, version, int(head))


def table_names(url: str) -> list[str]:
    """The tables a database already has (none: an empty database, a restore target)."""
    engine = create_engine(url)
    try:
        return sorted(n for n in inspect(engine).get_table_names() if not n.startswith("sqlite_"))
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------- SQLite


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if not parsed.database or parsed.database == ":memory:":
        raise BackupFailed(f"{url} is not a SQLite file")
    return Path(parsed.database)


def sqlite_copy_out(source: Path, target: Path, progress: Progress = no_progress) -> Snapshot:
    """The online backup API: a consistent copy even while the register writes (the copy restarts by itself
    when another connection writes mid-way). The snapshot is read from the copy, so it is the copy's."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024, progress=lambda _s, remaining, total: progress(total - remaining, total))
    finally:
        dst.close()
        src.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return read_snapshot(conn)
    finally:
        engine.dispose()


def sqlite_copy_in(source: Path, target: Path) -> None:
    """Replace the target's content with the backup's in one step of the backup API: one transaction on the
    target, so a failure leaves it as it was (and an existing target's WAL stays consistent)."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(target, 0o600)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --------------------------------------------------------------------------------------------- PostgreSQL


# libpq's environment variables for the connection parameters a URL's query may carry
_LIBPQ_QUERY = {
    "host": "PGHOST",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def _pg_env(url: str) -> dict[str, str]:
    """libpq's environment for the URL: the password goes in the environment, never on a command line (where
    `ps` shows it). Other PG* variables the operator set (a client certificate, say) are kept."""
    parsed = make_url(url)
    env = dict(os.environ)
    pairs = {
        "PGHOST": parsed.host or "",
        "PGPORT": str(parsed.port or ""),
        "PGUSER": parsed.username or "",
        "PGPASSWORD": parsed.password or "",
        "PGDATABASE": parsed.database or "",
    }
    for key, name in _LIBPQ_QUERY.items():
        value = parsed.query.get(key)
        if value and not pairs.get(name):
            pairs[name] = str(value if isinstance(value, str) else value[0])
    env.update({k: v for k, v in pairs.items() if v})
    return env


def pg_bindir(server_major: int, configured: Path | None) -> Path:
    """`pg_dump` and `pg_restore` of the server's major version (a newer client also reads an older
    server)."""
    if configured is not None:
        found = configured
    else:
        exact = Path(f"/usr/lib/postgresql/{server_major}/bin")
        versions = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), key=lambda p: int(Path(p).parts[-3])
        )
        on_path = shutil.which("pg_dump")
        if (exact / "pg_dump").exists():
            found = exact
        elif versions:
            found = Path(versions[-1]).parent
        elif on_path:
            found = Path(on_path).parent
        else:
            raise BackupFailed(
                "pg_dump not found: install the PostgreSQL client of the server's version (Debian: "
                f"postgresql-client-{server_major}) or set REGISTER_PG_BINDIR"
            )
    for tool in ("pg_dump", "pg_restore"):
        if not (found / tool).exists():
            raise BackupFailed(f"{found / tool} not found (REGISTER_PG_BINDIR)")
    out = subprocess.run([str(found / "pg_dump"), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    if not match or int(match.group(1)) < server_major:
        raise BackupFailed(
            f"{found / 'pg_dump'} is {out.stdout.strip() or 'unreadable'}, older than the server (major "
            f"{server_major}): it cannot dump it; set REGISTER_PG_BINDIR to the server's version"
        )
    return found


def server_major(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


@contextmanager
def pg_snapshot(url: str) -> Iterator[tuple[str, Snapshot, int]]:
    """A read-only REPEATABLE READ transaction held open while the dump runs: its exported snapshot is the one
    `pg_dump --snapshot` dumps, so the counts and revision read here are exactly the dump's."""
    engine = create_engine(url)
    try:
        with engine.connect() as raw:
            conn = raw.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot_id = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
                yield snapshot_id, read_snapshot(conn), server_major(conn)
    finally:
        engine.dispose()


def _run_verbose(cmd: list[str], env: dict[str, str], marker: str, total: int, progress: Progress) -> None:
    """Run pg_dump or pg_restore with --verbose, counting the tables it reports as progress."""
    done = 0
    progress(0, total)
    tail: list[str] = []
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if marker in line:
                done += 1
                progress(min(done, total), total)
            tail = (tail + [line.rstrip()])[-20:]
        code = proc.wait()
    if code != 0:
        errors = [t for t in tail if "error" in t.lower()] or tail
        raise BackupFailed(f"{Path(cmd[0]).name} failed ({code}): {' / '.join(errors[-5:])}")
    progress(total, total)


def pg_dump(
    url: str, bindir: Path, snapshot_id: str, target: Path, tables: int, progress: Progress = no_progress
) -> None:
    cmd = [
        str(bindir / "pg_dump"),
        "--format=custom",
        f"--snapshot={snapshot_id}",
        "--verbose",
        f"--file={target}",
    ]
    _run_verbose(cmd, _pg_env(url), "dumping contents of table", tables, progress)


def pg_restore(
    url: str, bindir: Path, source: Path, *, clean: bool, tables: int, progress: Progress = no_progress
) -> None:
    """One transaction (`--single-transaction`): a failure leaves the target as it was. Ownership and grants
    are the target's (`--no-owner --no-privileges`): the restoring role owns what it creates."""
    cmd = [
        str(bindir / "pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--verbose",
        f"--dbname={make_url(url).database}",
    ]
    if clean:
        cmd += ["--clean", "--if-exists"]
    _run_verbose([*cmd, str(source)], _pg_env(url), "processing data for table", tables, progress)
