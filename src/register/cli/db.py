"""`register db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click

from ..config import Settings
from ..store.open import migrate
from .base import main


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

    from ..store.open import alembic_config

    command.downgrade(alembic_config(settings), revision)
    click.echo(f"database at {revision}")
