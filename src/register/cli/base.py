"""What every command shares: the `main` group, the store opened for one command, progress on standard error.

The command modules import these from here (never from the package, which imports them: no import cycle).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..config import Settings
from ..crypto.envelope import TamperedCiphertext
from ..crypto.keys import KeyProblem
from ..domain.errors import DomainError
from ..store.open import NotMigrated, build_store
from ..store.store import Store
from ..store.sweep import Progress


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    """The store for one command; the errors a user can act on become a message and exit code 1."""
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


def progress_echo(label: str) -> Progress:
    """A progress callback printing `label: done/total (pct%)` on one line of standard error."""

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
