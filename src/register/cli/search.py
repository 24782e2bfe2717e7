"""`register indexer`, `register reindex` and `register index-check`: the Elasticsearch index, kept from the
outbox, rebuilt from the database and compared with it."""

from __future__ import annotations

import os
import sys

import click

from ..config import Settings
from .base import main, open_store, progress_echo


def _search_index(settings: Settings):
    from ..bootstrap import build_search_index

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

    from ..search import indexer as idx

    index = _search_index(settings)
    with open_store(settings) as store:
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
    from ..search import indexer as idx

    index = _search_index(settings)
    with open_store(settings) as store:
        name, count = idx.reindex(
            store,
            index,
            batch=settings.indexer_batch,
            progress=progress_echo("reindexing"),
            workers=workers or os.cpu_count() or 1,
        )
    click.echo(f"{count} records indexed into {name}; {settings.search_alias} now points at it")


@main.command("index-check")
@click.option("--repair", is_flag=True, help="re-index missing and stale records and delete extra documents")
@click.pass_obj
def index_check(settings: Settings, repair: bool) -> None:
    """Compare the index with the database; exit 1 if they differ (after --repair: if they still differ)."""
    from ..search import indexer as idx

    index = _search_index(settings)
    with open_store(settings) as store:
        drift = idx.check(store, index, repair=repair)
        after = idx.check(store, index) if repair else drift
    click.echo(
        f"missing {len(drift.missing)}, stale {len(drift.stale)}, extra {len(drift.extra)}"
        + (f"; after repair: {after.total} differences" if repair else "")
    )
    sys.exit(1 if after.total else 0)
