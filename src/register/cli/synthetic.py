"""`register generate`: a synthetic register for benchmarks and load tests (never in production)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import click

from ..config import Settings
from .base import json_option, main, open_store, progress_echo, report


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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="processes writing batches at once (default: the CPU count on PostgreSQL; SQLite takes one writer)",
)
@json_option
@click.pass_obj
def generate(
    settings: Settings,
    nominals: int,
    seed: int,
    today: dt.datetime | None,
    batch: int,
    workers: int | None,
    as_json: bool,
) -> None:
    """Write a synthetic register (benchmarks, load tests; never in production). Then run `register
    reindex`."""
    if settings.environment == "production":
        raise click.UsageError("synthetic data is never written to a production register")
    try:
        from ..synthetic import service as synthetic
    except ImportError as exc:
        raise click.UsageError(
            f"install the synthetic extra first: pip install -e '.[synthetic]' ({exc})"
        ) from None
    import os
    import time

    sqlite = settings.resolved_database_url.startswith("sqlite")
    if sqlite and (workers or 1) > 1:
        raise click.UsageError("SQLite takes one writer at a time: --workers 1 (or a PostgreSQL database)")
    started = time.perf_counter()
    with open_store(settings, whole_register=True) as store:
        done = synthetic.generate(
            store,
            nominals,
            seed,
            today=today.date() if today else None,
            batch=batch,
            workers=workers or (1 if sqlite else os.cpu_count() or 1),
            progress=progress_echo("generating people"),
        )
    seconds = time.perf_counter() - started
    result = {
        **dataclasses.asdict(done),
        "seconds": round(seconds, 1),
        "people_per_second": round(done.people / seconds),
    }
    report(
        result,
        as_json,
        lambda r: [
            f"{r['people']} people ({r['duplicates']} deliberate duplicates, {r['archived']} archived), "
            f"{r['items']} items, {r['entries']} chronology entries, {r['tokens']} blind tokens in "
            f"{r['seconds']:.1f} s ({r['people_per_second']} people/s); now run `register reindex` if "
            "Elasticsearch is configured"
        ],
    )
