"""`register db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click

from ..config import Settings
from ..store.open import build_store, has_plain_reasons, migrate, tokens_stale
from ..store.sweep import sweep
from .base import main, progress_echo


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Bring the database schema up to REVISION, then seal what earlier versions kept in clear and rebuild
    blind tokens that earlier versions wrote fewer of."""
    migrate(settings, revision)
    click.echo(f"database at {revision}: {settings.resolved_database_url}")
    if revision == "head":
        seal_plain_reasons(settings)
        rebuild_stale_tokens(settings)


def rebuild_stale_tokens(settings: Settings) -> int:
    """Records written before the current token definitions (migration 0023): recompute their tokens, as
    `register tokens rebuild` does (interrupted, the next upgrade or rebuild starts it again)."""
    if not tokens_stale(settings):
        return 0
    from ..domain.actors import SystemActor
    from ..keys import service as keys_service

    store = build_store(settings)
    try:
        done = keys_service.rebuild_tokens(
            store, SystemActor("tokens-rebuild"), progress=progress_echo("rebuilding tokens")
        )
        click.echo(f"tokens rebuilt for {done} records written by an earlier version")
        return done
    finally:
        store.dispose()


def seal_plain_reasons(settings: Settings, batch: int = 500) -> int:
    """Items' end reasons written before migration 0013 were kept in clear: seal them, a batch per transaction
    (an interrupted pass resumes where it stopped), with progress."""
    if not has_plain_reasons(settings):
        return 0
    store = build_store(settings)
    try:
        with store.unit_of_work() as uow:
            total = uow.nominals.count_plain_reasons()
        if not total:
            return 0
        done = sweep(
            store,
            iter(lambda: None, 0),  # batches until a step finds nothing left
            lambda uow, _: uow.nominals.seal_plain_reasons(batch) or None,
            total=total,
            progress=progress_echo("sealing end reasons"),
        )
        click.echo(f"sealed {done} end reasons kept in clear by an earlier version")
        return done
    finally:
        store.dispose()


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(settings: Settings, revision: str) -> None:
    """Take the database schema down to REVISION (`base` drops everything)."""
    from alembic import command

    from ..store.open import alembic_config

    command.downgrade(alembic_config(settings), revision)
    click.echo(f"database at {revision}")
