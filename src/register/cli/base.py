"""What every command shares: the `main` group, the store opened for one command, progress on standard error
(with the rate and the time left).

The command modules import these from here (never from the package, which imports them: no import cycle).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from ..config import Settings
from ..crypto.envelope import TamperedCiphertext
from ..crypto.keys import KeyProblem
from ..domain.errors import DomainError
from ..store.open import NotMigrated, build_store
from ..store.store import Store
from ..store.sweep import Progress


@contextmanager
def open_store(settings: Settings, *, whole_register: bool = False) -> Iterator[Store]:
    """The store for one command; the errors a user can act on become a message and exit code 1. Its
    statements have the requests' `db_statement_timeout_ms` (`register serve` answers requests through this
    store), unless the command works through the whole register in set-based statements (`whole_register`:
    quality runs, statistics, reindex, generate, retention...), which may run for
    `db_command_statement_timeout_ms` (decision 55)."""
    if whole_register:
        settings = settings.model_copy(
            update={"db_statement_timeout_ms": settings.db_command_statement_timeout_ms}
        )
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


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--json`: print the command's result object as JSON instead of lines for a person."""
    return click.option("--json", "as_json", is_flag=True, help="print the result as JSON")(command)


def report(result: dict[str, Any], as_json: bool, lines: Callable[[dict[str, Any]], Iterable[str]]) -> None:
    """Print one result: as JSON, or as the lines `lines` makes of the same object."""
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
        return
    for line in lines(result):
        click.echo(line)


def progress_echo(label: str, *, every: float | None = None, stream: TextIO | None = None) -> Progress:
    """A progress callback for a long command, on standard error: in a terminal a bar with done/total, the
    rate and the time left (click's progress bar); otherwise (a log, a pipe, a cron job) a plain line with
    the same figures every `every` seconds (REGISTER_PROGRESS_EVERY_SECONDS) and a last one when done."""
    out: TextIO = sys.stderr if stream is None else stream  # click's CliRunner swaps sys.stderr
    if every is None:
        ctx = click.get_current_context(silent=True)
        settings = ctx.find_object(Settings) if ctx is not None else None
        every = settings.progress_every_seconds if settings is not None else 10.0
    if out.isatty():
        return _BarProgress(label, out)
    return _LineProgress(label, out, every)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class _Rate:
    """Done per second since the first call, and the time left at that rate."""

    def __init__(self) -> None:
        self.started: float | None = None

    def measure(self, done: int, total: int) -> tuple[float, float, float | None]:
        now = time.monotonic()
        if self.started is None:
            self.started = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 and done else 0.0
        eta = (total - done) / rate if rate else None
        return elapsed, rate, eta


class _LineProgress:
    def __init__(self, label: str, out: TextIO, every: float) -> None:
        self.label, self.out, self.every = label, out, every
        self.rate = _Rate()
        self.last: float | None = None

    def __call__(self, done: int, total: int) -> None:
        elapsed, rate, eta = self.rate.measure(done, total)
        finished = done >= total
        now = time.monotonic()
        if not finished and self.last is not None and now - self.last < self.every:
            return
        self.last = now
        pct = 100 * done // total if total else 100
        tail = f"done in {_clock(elapsed)}" if finished else f"ETA {_clock(eta)}"
        click.echo(f"{self.label}: {done}/{total} ({pct}%), {rate:.1f}/s, {tail}", file=self.out)


def _shown(text: str | None) -> str | None:
    return text


class _BarProgress:
    def __init__(self, label: str, out: TextIO) -> None:
        self.label, self.out = label, out
        self.rate = _Rate()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        _, rate, eta = self.rate.measure(done, total)
        if self.bar is None:
            self.bar = click.progressbar(
                length=max(total, 1),
                label=self.label,
                show_eta=False,  # ours, with the rate: click's is sampled once a second
                show_percent=True,
                show_pos=True,
                item_show_func=_shown,
                file=self.out,
            )
            self.bar.__enter__()
        self.bar.length = max(total, 1)
        self.bar.update(done - self.bar.pos, f"{rate:.1f}/s, ETA {_clock(eta)}")
        if done >= total:
            self.bar.__exit__(None, None, None)
            self.bar = None
            self.rate = _Rate()


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """The register: an encrypted, audited store of MAPPA nominals."""
    ctx.obj = Settings()
