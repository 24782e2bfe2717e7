"""`register watches run`: evaluate the investigators' watched searches against the records changed since the
last run and tell them of new matches (`register indexer` does the same after every pass that indexed
something)."""

from __future__ import annotations

from typing import Any

import click

from ..config import Settings
from .base import json_option, main, open_store, report


def run_watches(settings: Settings, store: Any) -> Any:
    """One evaluation of every active watch, on the configured search engine (with Elasticsearch, only the
    changes the indexer has written)."""
    from ..access.policy import Policy
    from ..bootstrap import build_search_index
    from ..saved_searches import service
    from ..search.elastic import ElasticBackend
    from ..search.sql import SqlBackend

    index = build_search_index(settings)
    backend: Any = SqlBackend(store) if index is None else ElasticBackend(index)
    return service.run_watches(
        store,
        Policy.load(settings.policy_file),
        backend,
        "sql" if index is None else "elasticsearch",
        indexed_only=index is not None,
    )


@main.group("watches")
def watches() -> None:
    """Investigators' watched searches."""


@watches.command("run")
@json_option
@click.pass_obj
def run(settings: Settings, as_json: bool) -> None:
    """Evaluate every active watch against the records changed since the last run (a high-water mark over
    the outbox): one search per watch, as its watcher, restricted to those records. Run it every minute or
    so (cron, a Kubernetes CronJob), or let `register indexer` do it."""
    with open_store(settings) as store:
        result = run_watches(settings, store)
    report(
        {
            "changed": result.changed,
            "evaluated": result.evaluated,
            "new": result.new,
            "refused": result.refused,
            "mark": result.mark,
        },
        as_json,
        lambda r: [
            f"{r['changed']} changed records, {r['evaluated']} watches evaluated, {r['new']} new matches"
            + (f", {r['refused']} refused" if r["refused"] else "")
        ],
    )
