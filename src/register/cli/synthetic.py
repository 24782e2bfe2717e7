"""`register generate`: a synthetic register for benchmarks and load tests (never in production)."""

from __future__ import annotations

import datetime as dt

import click

from ..config import Settings
from .base import main, open_store, progress_echo


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
        from ..synthetic import service as synthetic
    except ImportError as exc:
        raise click.UsageError(
            f"install the synthetic extra first: pip install -e '.[synthetic]' ({exc})"
        ) from None
    import time

    started = time.perf_counter()
    with open_store(settings) as store:
        done = synthetic.generate(
            store,
            nominals,
            seed,
            today=today.date() if today else None,
            batch=batch,
            progress=progress_echo("generating people"),
        )
    seconds = time.perf_counter() - started
    click.echo(
        f"{done.people} people ({done.duplicates} deliberate duplicates, {done.archived} archived), "
        f"{done.items} items, {done.entries} chronology entries, {done.tokens} blind tokens in {seconds:.1f} "
        f"s ({done.people / seconds:.0f} people/s); now run `register reindex` if Elasticsearch is configured"
    )
