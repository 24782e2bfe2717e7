"""`register indexer`, `register reindex` and `register index-check`: the Elasticsearch index, kept from the
outbox, rebuilt from the database and compared with it."""

from __future__ import annotations

import os
import sys

import click

from ..config import Settings
from .base import json_option, main, open_store, progress_echo, report


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
@click.pass_obj
def indexer(settings: Settings, once: bool, interval: float, as_json: bool) -> None:
    """Drain the outbox into Elasticsearch (run several: they compete safely on PostgreSQL)."""
    import time

    from ..search import indexer as idx

    if not once:  # a long-running worker: its warnings and errors in the same format as the API's
        from ..api.observability import configure_logging

        configure_logging(settings.log_format)
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
                report(
                    idx.outbox_status(store),
                    as_json,
                    lambda r: [f"outbox: {r['pending']} pending, {r['parked']} parked"],
                )
                return
            time.sleep(interval)


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

    index = _search_index(settings)
    with open_store(settings) as store:
        name, count = idx.reindex(
            store,
            index,
            batch=settings.indexer_batch,
            progress=progress_echo("reindexing"),
            workers=workers or os.cpu_count() or 1,
        )
    report(
        {"indexed": count, "index": name, "alias": settings.search_alias},
        as_json,
        lambda r: [f"{r['indexed']} records indexed into {r['index']}; {r['alias']} now points at it"],
    )


@main.command("index-check")
@click.option("--repair", is_flag=True, help="re-index missing and stale records and delete extra documents")
@json_option
@click.pass_obj
def index_check(settings: Settings, repair: bool, as_json: bool) -> None:
    """Compare the index with the database; exit 1 if they differ (after --repair: if they still differ)."""
    from ..search import indexer as idx

    index = _search_index(settings)
    with open_store(settings) as store:
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
    sys.exit(1 if after.total else 0)
