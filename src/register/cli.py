"""The `register` command."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import func, select

from . import demo as demo_data
from .access.development import DEMO_USERS, demo_users  # noqa: F401 - the tests import DEMO_USERS from here
from .access.tokens import ensure_dev_signing_key, mint
from .config import Settings, display_path
from .crypto.envelope import TamperedCiphertext
from .crypto.keys import KeyProblem
from .domain.actors import SystemActor
from .domain.enums import Agency, Area, Role
from .domain.errors import DomainError
from .keys import service as keys_service
from .nominals import service as nominal_service
from .retention import service as retention_service
from .store import models as m
from .store.open import NotMigrated, build_store, migrate
from .store.store import Store


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    try:
        store = build_store(settings)
    except (NotMigrated, KeyProblem) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield store
    except (KeyProblem, TamperedCiphertext, DomainError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()


def _progress(label: str):
    def show(done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        click.echo(f"\r{label}: {done}/{total} ({pct}%)", nl=False, err=True)
        if done >= total:
            click.echo("", err=True)

    return show


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """The register: an encrypted, audited store of MAPPA nominals."""
    ctx.obj = Settings()


# ------------------------------------------------------------------ database


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Bring the database schema up to REVISION."""
    migrate(settings, revision)
    click.echo(f"database at {revision}: {settings.resolved_database_url}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(settings: Settings, revision: str) -> None:
    """Take the database schema down to REVISION (`base` drops everything)."""
    from alembic import command

    from .store.open import alembic_config

    command.downgrade(alembic_config(settings), revision)
    click.echo(f"database at {revision}")


# ------------------------------------------------------------------ keys


@main.group()
def keys() -> None:
    """Key-encryption keys and data keys."""


@keys.command("status")
@click.pass_obj
def keys_status(settings: Settings) -> None:
    """Which key-encryption key versions exist and how many data keys each wraps."""
    with _store(settings) as store:
        ring = store.keys.keyring
        usage = keys_service.key_usage(store)
        for version in ring.versions():
            click.echo(f"kek v{version}: {ring.state(version)}, wraps {usage.get(version, 0)} data keys")
        for version in keys_service.missing_versions(store):
            click.echo(
                f"kek v{version}: NOT IN THE KEY FILE, wraps {usage[version]} data keys: restore it from the "
                "key backup"
            )


@keys.command("rotate")
@click.option(
    "--no-rewrap",
    is_flag=True,
    help="only add the new version (copy the key file to every host, then `keys rewrap`)",
)
@click.pass_obj
def keys_rotate(settings: Settings, no_rewrap: bool) -> None:
    """Make a new key-encryption key active and re-wrap every data key under it (values are not touched)."""
    with _store(settings) as store:
        before = store.keys.keyring.active_version()
        try:
            version, count = keys_service.rotate(
                store,
                SystemActor("keys-rotate"),
                progress=_progress("re-wrapping data keys"),
                rewrap=not no_rewrap,
            )
        except Exception as exc:
            if store.keys.keyring.active_version() == before:
                raise
            raise click.ClickException(
                f"key-encryption key v{store.keys.keyring.active_version()} is active but the re-wrap "
                f"stopped ({exc}): every record stays readable; run `register keys rewrap` to finish"
            ) from None
        if no_rewrap:
            click.echo(
                f"key-encryption key v{version} is active; no data key moved yet: install the key file on "
                "every host, then run `register keys rewrap`"
            )
        else:
            click.echo(
                f"key-encryption key v{version} is active; {count} data keys re-wrapped. Older versions stay "
                "readable until retired."
            )


@keys.command("rewrap")
@click.pass_obj
def keys_rewrap(settings: Settings) -> None:
    """Finish an interrupted rotation, or empty a retiring version: re-wrap data keys still under older
    versions (in batches, progress shown; safe to interrupt and rerun while the register runs)."""
    with _store(settings) as store:
        count = keys_service.rewrap_data_keys(
            store, SystemActor("keys-rewrap"), progress=_progress("re-wrapping data keys")
        )
        click.echo(f"{count} data keys re-wrapped")


@keys.command("retire")
@click.argument("version")
@click.pass_obj
def keys_retire(settings: Settings, version: str) -> None:
    """Retire a key-encryption key version no data key uses any more (refused, the version left retiring,
    while any data key, including one being written, is still wrapped under it)."""
    with _store(settings) as store:
        try:
            keys_service.retire(store, SystemActor("keys-retire"), version)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"key-encryption key v{version} retired")


@main.group()
def tokens() -> None:
    """Blind-index tokens (exact-match lookups without decryption)."""


@tokens.command("rebuild")
@click.pass_obj
def tokens_rebuild(settings: Settings) -> None:
    """Recompute every record's blind-index tokens (after an upgrade that adds token kinds)."""
    with _store(settings) as store:
        count = keys_service.rebuild_tokens(
            store, SystemActor("tokens-rebuild"), progress=_progress("rebuilding tokens")
        )
        click.echo(f"tokens rebuilt for {count} records")


@main.command("duplicates")
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.pass_obj
def duplicates_cmd(settings: Settings, area: str, limit: int) -> None:
    """List suspected duplicate pairs touching an area (ids, areas and the rule; names only through the
    API)."""
    from .merges import service as merges

    with _store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        pairs, total = merges.list_pairs(uow, SystemActor("cli"), area, limit=limit)
    click.echo(
        f"{total} suspected duplicate pairs touch {area}"
        + (f" (first {len(pairs)})" if total > len(pairs) else "")
    )
    for p in pairs:
        click.echo(f"  {p.rule:<17} {p.first} ({p.first_area})  {p.second} ({p.second_area})")


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
    import datetime as dt

    from .quality import service as quality

    with _store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        quality.run(
            uow, SystemActor("quality"), Area(area), dt.date.today(), progress=_progress("running rules")
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


@main.command("stats")
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option(
    "--year",
    required=True,
    type=int,
    help="the year the reporting year ends in (2023: April 2022 to March 2023)",
)
@click.option(
    "--population",
    type=int,
    default=None,
    help="the area's population aged 10 and over, for the rate per 100,000",
)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True
)
@click.pass_obj
def stats_cmd(settings: Settings, area: str, year: int, population: int | None, fmt: str) -> None:
    """Produce an area's MAPPA annual statistics tables."""
    from .statistics import render
    from .statistics import service as statistics

    with _store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        figures = statistics.read_tables(uow, SystemActor("stats"), area, year, population)
    click.echo(
        json.dumps(figures, indent=2)
        if fmt == "json"
        else render.to_csv(figures)
        if fmt == "csv"
        else render.to_html(figures)
    )


@main.group()
def notification() -> None:
    """Notification requirements (Sexual Offences Act 2003 s.82), derived from each record."""


@notification.command("refresh")
@click.pass_obj
def notification_refresh(settings: Settings) -> None:
    """Recompute every record's derived notification dates."""
    with _store(settings) as store:
        count = nominal_service.refresh_notifications(
            store, progress=_progress("recomputing notification dates")
        )
        click.echo(f"notification dates recomputed for {count} records")


@main.command("reencrypt")
@click.option(
    "--nominal", "nominals", multiple=True, type=click.UUID, help="a record to re-encrypt (repeatable)"
)
@click.option("--all", "everything", is_flag=True, help="re-encrypt every record")
@click.pass_obj
def reencrypt(settings: Settings, nominals: tuple[uuid.UUID, ...], everything: bool) -> None:
    """Give records fresh data keys and reseal every value; the old data keys are deleted."""
    if not nominals and not everything:
        raise click.UsageError("name records with --nominal ID, or use --all")
    with _store(settings) as store:
        count = keys_service.reencrypt(
            store,
            SystemActor("reencrypt"),
            None if everything else list(nominals),
            progress=_progress("re-encrypting records"),
        )
        click.echo(f"{count} records re-encrypted")


@main.command("generate")
@click.option("--nominals", type=click.IntRange(1, 2_000_000), required=True, help="how many people to write")
@click.option("--seed", type=int, default=1, show_default=True, help="the same seed gives the same people")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="the date the register is as of (default: today)",
)
@click.option(
    "--batch", type=click.IntRange(10, 5000), default=500, show_default=True, help="people per transaction"
)
@click.pass_obj
def generate(settings: Settings, nominals: int, seed: int, today: dt.datetime | None, batch: int) -> None:
    """Write a synthetic register (benchmarks, load tests; never in production). Then run `register
    reindex`."""
    if settings.environment == "production":
        raise click.UsageError("synthetic data is never written to a production register")
    try:
        from .synthetic import service as synthetic
    except ImportError as exc:
        raise click.UsageError(
            f"install the synthetic extra first: pip install -e '.[synthetic]' ({exc})"
        ) from None
    import time

    started = time.perf_counter()
    with _store(settings) as store:
        done = synthetic.generate(
            store,
            nominals,
            seed,
            today=today.date() if today else None,
            batch=batch,
            progress=_progress("generating people"),
        )
    seconds = time.perf_counter() - started
    click.echo(
        f"{done.people} people ({done.duplicates} deliberate duplicates, {done.archived} archived), "
        f"{done.items} items, {done.entries} chronology entries, {done.tokens} blind tokens in {seconds:.1f} "
        f"s ({done.people / seconds:.0f} people/s); now run `register reindex` if Elasticsearch is configured"
    )


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
    with _store(settings) as store:
        report = retention_service.run(
            store,
            SystemActor("retention"),
            today=today.date() if today else None,
            dry_run=dry_run,
            progress=_progress("checking disposal dates"),
        )
    click.echo(
        f"{report.candidates} candidates in their disposal year, {len(report.due)} due on {report.today}"
        + (" (dry run: nothing erased)" if dry_run else f", {report.erased} records erased (tombstones kept)")
    )
    for nominal_id in report.due:
        click.echo(f"  {nominal_id}")


# ------------------------------------------------------------------ audit


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("seal")
@click.option(
    "--full", is_flag=True, help="look for unsealed events across the whole log, not just recent ones"
)
@click.pass_obj
def audit_seal(settings: Settings, full: bool) -> None:
    """Seal committed audit events into the hash chain and anchor the head. Exits 1 if an event was refused
    (its MAC is missing or wrong) or the head could not be anchored."""
    with _store(settings) as store:
        result = store.seal(full=full, force_anchor=True)
        where = store.anchors.description
    click.echo(f"{result.sealed} events sealed")
    for seq, why in result.refused:
        click.echo(f"REFUSED: audit event seq {seq}: {why}")
    if result.anchor is not None:
        click.echo(f"head anchored at position {result.anchor.position} in {where}")
    if result.anchor_error:
        click.echo(f"ANCHOR FAILED: {result.anchor_error}")
    if result.refused:
        click.echo(
            f"{len(result.refused)} events refused: run `register audit verify` and see docs/operations.md "
            "(Audit)"
        )
    sys.exit(1 if result.refused or result.anchor_error else 0)


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def audit_verify(settings: Settings, as_json: bool) -> None:
    """Prove that no audit event was inserted, modified, deleted or reordered, and that the chain reaches its
    latest anchor (no cut tail, no emptied log, no re-sealed chain). Exits 1 on any finding."""
    with _store(settings) as store:
        report = store.verify_audit()
    first = report.first_broken
    latest = report.latest_anchor
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "sealed": report.sealed,
                    "unsealed": report.unsealed,
                    "head": {"position": report.head_position, "digest": report.head_digest},
                    "anchors": {
                        "store": report.anchor_store,
                        "count": report.anchors,
                        "latest": latest.__dict__ if latest else None,
                    },
                    "first_broken": {"position": first.position, "seq": first.seq, "kind": first.kind}
                    if first
                    else None,
                    "problems": [p.__dict__ for p in report.problems],
                },
                indent=2,
            )
        )
    else:
        for problem in report.problems:
            click.echo(f"{problem.kind.upper()}: {problem.message}")
        click.echo(
            f"{report.sealed} events sealed, {report.unsealed} awaiting sealing; head at position "
            f"{report.head_position} digest {report.head_digest[:16]}"
        )
        click.echo(
            f"{report.anchors} anchors in {report.anchor_store}"
            + (f"; latest at position {latest.position}, {latest.at}" if latest else "")
        )
        if first is not None:
            located = [
                f"chain position {first.position}" if first.position is not None else "",
                f"event seq {first.seq}" if first.seq is not None else "",
            ]
            click.echo(f"first broken: {', '.join(x for x in located if x) or 'see above'} ({first.kind})")
        click.echo(
            "audit log intact" if report.ok else f"AUDIT LOG TAMPERED WITH: {len(report.findings)} findings"
        )
    sys.exit(0 if report.ok else 1)


# ------------------------------------------------------------------ search index


def _search_index(settings: Settings):
    from .bootstrap import build_search_index

    index = build_search_index(settings)
    if index is None:
        raise click.ClickException("no Elasticsearch configured: set REGISTER_ELASTICSEARCH_URL")
    return index


@main.command("indexer")
@click.option("--once", is_flag=True, help="drain what is pending now and stop")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls when idle")
@click.pass_obj
def indexer(settings: Settings, once: bool, interval: float) -> None:
    """Drain the outbox into Elasticsearch (run several: they compete safely on PostgreSQL)."""
    import time

    from .search import indexer as idx

    index = _search_index(settings)
    with _store(settings) as store:
        index.ensure()
        while True:
            result = idx.drain_all(store, index, batch=settings.indexer_batch)
            if result.indexed or result.retried or result.parked:
                click.echo(
                    f"indexed {result.indexed}, retrying {result.retried}, parked {result.parked}", err=True
                )
            if once:
                status = idx.outbox_status(store)
                click.echo(f"outbox: {status['pending']} pending, {status['parked']} parked")
                return
            time.sleep(interval)


@main.command("reindex")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="processes building documents (default: the CPU count)",
)
@click.pass_obj
def reindex(settings: Settings, workers: int | None) -> None:
    """Rebuild the search index from the database into a fresh index, then swap the alias to it."""
    from .search import indexer as idx

    index = _search_index(settings)
    with _store(settings) as store:
        name, count = idx.reindex(
            store,
            index,
            batch=settings.indexer_batch,
            progress=_progress("reindexing"),
            workers=workers or os.cpu_count() or 1,
        )
    click.echo(f"{count} records indexed into {name}; {settings.search_alias} now points at it")


@main.command("index-check")
@click.option("--repair", is_flag=True, help="re-index missing and stale records and delete extra documents")
@click.pass_obj
def index_check(settings: Settings, repair: bool) -> None:
    """Compare the index with the database; exit 1 if they differ (after --repair: if they still differ)."""
    from .search import indexer as idx

    index = _search_index(settings)
    with _store(settings) as store:
        drift = idx.check(store, index, repair=repair)
        after = idx.check(store, index) if repair else drift
    click.echo(
        f"missing {len(drift.missing)}, stale {len(drift.stale)}, extra {len(drift.extra)}"
        + (f"; after repair: {after.total} differences" if repair else "")
    )
    sys.exit(1 if after.total else 0)


# ------------------------------------------------------------------ records


@main.command("show")
@click.argument("nominal_id", type=click.UUID)
@click.option("--purpose", required=True, help="why the record is being read (recorded in the audit log)")
@click.pass_obj
def show(settings: Settings, nominal_id: uuid.UUID, purpose: str) -> None:
    """Print a whole record as JSON (an audited consultation)."""
    with _store(settings) as store, store.unit_of_work(for_caller=True) as uow:
        record = nominal_service.read_record(uow, SystemActor("cli"), nominal_id, purpose=purpose)
    click.echo(json.dumps(record.to_dict(), indent=2))


def _serve(settings: Settings, host: str, port: int, *, quiet: bool = False) -> None:
    import uvicorn

    from .api.app import build_app

    with _store(settings) as store:
        # quiet (the demo): warnings and errors only, no access log: the banner already says where to go
        uvicorn.run(
            build_app(settings, store),
            host=host,
            port=port,
            log_level="warning" if quiet else "info",
            access_log=not quiet,
        )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
def serve(settings: Settings, host: str, port: int) -> None:
    """Serve the HTTP API."""
    _serve(settings, host, port)


def _dev_token(
    settings: Settings,
    user: str,
    agency: Agency,
    area: Area,
    roles: list[Role],
    name: str = "",
    ttl: int = 8 * 3600,
) -> str:
    if settings.environment != "development":
        raise click.ClickException("development tokens exist only with REGISTER_ENVIRONMENT=development")
    key = ensure_dev_signing_key(settings.resolved_key_dir)
    return mint(
        key,
        user=user,
        agency=agency,
        area=area,
        roles=roles,
        name=name,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_seconds=ttl,
    )


@main.command("dev-token")
@click.option("--user", required=True)
@click.option("--agency", required=True, type=click.Choice([a.value for a in Agency]))
@click.option("--area", required=True, type=click.Choice([a.value for a in Area]))
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="")
@click.option("--ttl", default=8 * 3600, show_default=True, help="seconds")
@click.pass_obj
def dev_token(
    settings: Settings, user: str, agency: str, area: str, roles: tuple[str, ...], name: str, ttl: int
) -> None:
    """Mint a development bearer token (signed with the local development key; development only)."""
    click.echo(_dev_token(settings, user, Agency(agency), Area(area), [Role(r) for r in roles], name, ttl))


def _demo_tokens(settings: Settings) -> dict[str, str]:
    return {
        user.variable: _dev_token(
            settings, user.user_id, user.agency, user.area, [user.role], name=user.display_name
        )
        for user in demo_users()
    }


@main.command("demo")
@click.option("--reset", is_flag=True, help="delete the demo's database and keys first, and start over")
@click.option(
    "--serve/--no-serve",
    "serve_api",
    default=True,
    show_default=True,
    help="serve the register after loading",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to serve on")
@click.option("--port", default=8000, show_default=True, type=int, help="the port to serve on")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the demo keeps its database, keys and tokens  [default: var/, or REGISTER_VAR_DIR]",
)
@click.pass_obj
def demo(
    settings: Settings, reset: bool, serve_api: bool, host: str, port: int, data_dir: Path | None
) -> None:
    """Run the register on its embedded default: SQLite, development keys, demo data.

    Loads invented records in Kent and Essex on first run (a few hand-made, every section used, and the demo
    offender managers' caseloads), writes a bearer token for a user of each role to DATA_DIR/demo-tokens.env,
    and serves the web pages (sign in at /sign-in as any demo user) and the API (`make demo ARGS="--port
    8080"`).
    """
    if settings.environment != "development":
        raise click.ClickException("the demo runs only with REGISTER_ENVIRONMENT=development")
    if data_dir is not None:
        settings = settings.model_copy(update={"var_dir": data_dir.resolve()})
    if reset:
        import shutil

        shutil.rmtree(settings.var_dir, ignore_errors=True)
    migrate(settings)
    with _store(settings) as store:
        with store.session_factory() as session:
            existing = session.execute(select(func.count()).select_from(m.Nominal)).scalar_one()
        if existing == 0:
            with store.unit_of_work() as uow:
                ids = demo_data.load(uow, SystemActor("demo-loader"))
            existing = len(ids)
    env_file = settings.var_dir / "demo-tokens.env"
    env_file.write_text("".join(f"export {k}={v}\n" for k, v in _demo_tokens(settings).items()))
    env_file.chmod(0o600)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    click.echo(
        _DEMO_BANNER.format(
            records=existing, url=url, tokens=display_path(env_file), data=display_path(settings.var_dir)
        )
    )
    if serve_api:
        _serve(settings, host, port, quiet=True)


_DEMO_BANNER = """
The register (embedded default: SQLite, development keys, {records} invented records)

  Open     {url}/            API documentation at {url}/docs
  Sign in  {url}/sign-in     as any demo user, e.g. the Kent police offender manager (no password)
  Tokens   {tokens}   a bearer token for a user of each role in Kent and Essex:
           source {tokens}
           curl -H "Authorization: Bearer $KENT_OFFENDER_MANAGER" {url}/v1/nominals
  Data     {data}/   (database and keys; kept between runs)
  Stop     Ctrl-C.   Start over: make demo ARGS=--reset   Another port: make demo ARGS="--port 8080"
"""


if __name__ == "__main__":
    main()
