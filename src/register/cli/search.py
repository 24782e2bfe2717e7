"""`register indexer`, `register reindex` and `register index-check`: the Elasticsearch index, kept from the
outbox, rebuilt from the database and compared with it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ..config import Settings
from ..search.service import DEFAULT_OUTBOX_KEEP_DAYS
from .base import json_option, main, open_store, progress_echo, report
from .watches import run_watches


def _search_index(settings: Settings):
    from ..bootstrap import build_search_index

    index = build_search_index(settings)
    if index is None:
        raise click.ClickException("no Elasticsearch configured: set REGISTER_ELASTICSEARCH_URL")
    return index


@main.command("indexer")
@click.option("--once", is_flag=True, help="drain what is pending now and stop")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls when idle")
@click.option("--json", "as_json", is_flag=True, help="with --once: print the outbox's state as JSON")
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="touch this file after every pass (also while waiting for the database): a liveness probe's signal",
)
@click.pass_obj
def indexer(settings: Settings, once: bool, interval: float, as_json: bool, heartbeat: Path | None) -> None:
    """Drain the outbox into Elasticsearch (run several: they compete safely on PostgreSQL).

    If the database goes away (a restart, a failover) it waits, retrying with a doubling wait up to
    `indexer_database_retry_max_seconds`, and carries on when it answers again; with --once it stops with
    status 1."""
    import time

    from ..search import indexer as idx
    from ..store.db import DATABASE_ERRORS, database_unreachable

    def beat() -> None:
        if heartbeat is not None:
            heartbeat.touch()

    if not once:  # a long-running worker: its warnings and errors in the same format as the API's
        from ..api.observability import configure_logging

        configure_logging(settings.log_format)
    index = _search_index(settings)
    schedule = idx.RetrySchedule.from_settings(settings)
    with open_store(settings) as store:
        idx.ensure_for(store, index)  # a register that lost its index waits for `register reindex`
        if not once:
            idx.settle_heap()
        failures = 0
        while True:
            beat()
            try:
                result = idx.drain_all(
                    store, index, batch=settings.indexer_batch, schedule=schedule, after_batch=beat
                )
                if failures:  # said before anything slower (the watches) runs after the pass
                    click.echo(f"the database answers again after {failures} tries: indexing", err=True)
                    failures = 0
                _report_pass(result)
                if result.indexed:  # what was just indexed, evaluated against the watched searches
                    _watches(settings, store)
                status = idx.outbox_status(store) if once else None
            except DATABASE_ERRORS as exc:
                if not database_unreachable(exc):
                    raise
                cause = getattr(exc, "orig", None) or exc
                if once:
                    raise click.ClickException(
                        f"the database is unreachable ({type(cause).__name__})"
                    ) from None
                failures += 1
                wait = min(settings.indexer_database_retry_max_seconds, interval * 2 ** min(failures - 1, 20))
                if failures == 1:  # once per outage
                    click.echo(
                        f"the database is unreachable ({type(cause).__name__}): waiting, retrying at most "
                        f"{settings.indexer_database_retry_max_seconds:g}s apart",
                        err=True,
                    )
                time.sleep(wait)
                continue
            if status is not None:
                report(status, as_json, lambda r: [f"outbox: {r['pending']} pending, {r['parked']} parked"])
                return
            time.sleep(interval)


def _report_pass(result: Any) -> None:
    """One line for a pass that did something, written as soon as the pass ends."""
    if result.indexed or result.retried or result.parked or result.resumed:
        click.echo(
            f"indexed {result.indexed}, retrying {result.retried}, parked {result.parked}"
            + (f", resumed {result.resumed} parked" if result.resumed else ""),
            err=True,
        )


def _watches(settings: Settings, store: Any) -> None:
    """Evaluate the watched searches after a pass; a failure (the search engine not answering) is reported and
    left to the next pass or `register watches run` (the high-water mark has not moved past what failed)."""
    from ..search.backend import SearchUnavailable
    from ..store.db import DATABASE_ERRORS, database_unreachable

    try:
        told = run_watches(settings, store)
    except SearchUnavailable:
        click.echo("watched searches not evaluated: the search engine is not answering", err=True)
        return
    except DATABASE_ERRORS as exc:
        if database_unreachable(exc):
            raise  # the loop waits for the database
        click.echo(f"watched searches not evaluated: {type(exc).__name__}", err=True)
        return
    if told.new:
        click.echo(f"watched searches: {told.new} new matches", err=True)


@main.command("reindex")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="processes building documents (default: the CPU count)",
)
@json_option
@click.pass_obj
def reindex(settings: Settings, workers: int | None, as_json: bool) -> None:
    """Rebuild the search index from the database into a fresh index, then swap the alias to it."""
    from ..search import indexer as idx
    from ..store.exclusive import AlreadyRunning

    index = _search_index(settings)
    with open_store(settings, whole_register=True) as store:
        idx.settle_heap()  # with --workers 1 this process builds the documents
        try:
            name, count = idx.reindex(
                store,
                index,
                batch=settings.indexer_batch,
                progress=progress_echo("reindexing"),
                workers=workers or os.cpu_count() or 1,
            )
        except AlreadyRunning as exc:
            raise click.ClickException(str(exc)) from None
    report(
        {"indexed": count, "index": name, "alias": settings.search_alias},
        as_json,
        lambda r: [f"{r['indexed']} records indexed into {r['index']}; {r['alias']} now points at it"],
    )


@main.command("index-check")
@click.option("--repair", is_flag=True, help="re-index missing and stale records and delete extra documents")
@click.option(
    "--strict",
    is_flag=True,
    help="exit 1 if the index differed, even once repaired (the nightly job: mended, and an operator told)",
)
@json_option
@click.pass_obj
def index_check(settings: Settings, repair: bool, strict: bool, as_json: bool) -> None:
    """Compare the index with the database; exit 1 if they differ (after --repair: if they still differ; with
    --strict: if they differed)."""
    from ..search import indexer as idx

    index = _search_index(settings)
    with open_store(settings, whole_register=True) as store:
        drift = idx.check(store, index, repair=repair)
        after = idx.check(store, index) if repair else drift
    result = {
        "missing": drift.missing,
        "stale": drift.stale,
        "extra": drift.extra,
        "after_repair": after.total if repair else None,
    }
    report(
        result,
        as_json,
        lambda r: [
            f"missing {len(r['missing'])}, stale {len(r['stale'])}, extra {len(r['extra'])}"
            + (f"; after repair: {r['after_repair']} differences" if r["after_repair"] is not None else "")
        ],
    )
    sys.exit(1 if (drift.total if strict else after.total) else 0)


@main.group()
def outbox() -> None:
    """The search outbox: the changes on their way to the index (docs/operations.md, "Search")."""


@outbox.command("prune")
@click.option(
    "--keep-days",
    type=click.IntRange(1, 36_500),
    default=DEFAULT_OUTBOX_KEEP_DAYS,
    show_default=True,
    envvar="REGISTER_OUTBOX_KEEP_DAYS",
    help="keep the rows indexed within this many days (a rebuild's catch-up reads them)",
)
@json_option
@click.pass_obj
def outbox_prune(settings: Settings, keep_days: int, as_json: bool) -> None:
    """Remove outbox rows nothing needs any more (daily, e.g. a CronJob): indexed more than --keep-days ago,
    or waiting that long behind a newer row of the same record; rows the watched searches have not yet
    evaluated stay. Audited, a window of rows a transaction."""
    from ..domain.actors import SystemActor
    from ..search import service

    with open_store(settings, whole_register=True) as store:
        done = service.prune_outbox(
            store,
            SystemActor("outbox-prune"),
            keep_days=keep_days,
            progress=progress_echo("pruning the outbox (row numbers)"),
        )
    report(done.model_dump(mode="json"), as_json, _prune_lines)


def _prune_lines(r: dict[str, Any]) -> list[str]:
    lines = [
        f"removed {r['removed']} outbox rows indexed before {r['before']}"
        f" and {r['superseded']} superseded by a newer change to the same record"
    ]
    if r["kept_after"] is not None:
        lines.append(f"rows after {r['kept_after']} kept: the watched searches have not evaluated them yet")
    return lines
