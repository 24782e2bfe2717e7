"""`register keys`, `register tokens` and `register reencrypt`: key-encryption keys, data keys and blind-index
tokens."""

from __future__ import annotations

import uuid

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..keys import service as keys_service
from .base import main, open_store, progress_echo


@main.group()
def keys() -> None:
    """Key-encryption keys and data keys."""


@keys.command("status")
@click.pass_obj
def keys_status(settings: Settings) -> None:
    """Which key-encryption key versions exist and how many data keys each wraps."""
    with open_store(settings) as store:
        ring = store.keys.keyring
        usage = keys_service.key_usage(store)
        for version in ring.versions():
            click.echo(f"kek v{version}: {ring.state(version)}, wraps {usage.get(version, 0)} data keys")
        for version in keys_service.missing_versions(store):
            click.echo(
                f"kek v{version}: NOT IN THE KEY FILE, wraps {usage[version]} data keys: restore it from the "
                "key backup"
            )


@keys.command("rotate")
@click.option(
    "--no-rewrap",
    is_flag=True,
    help="only add the new version (copy the key file to every host, then `keys rewrap`)",
)
@click.pass_obj
def keys_rotate(settings: Settings, no_rewrap: bool) -> None:
    """Make a new key-encryption key active and re-wrap every data key under it (values are not touched)."""
    with open_store(settings) as store:
        before = store.keys.keyring.active_version()
        try:
            version, count = keys_service.rotate(
                store,
                SystemActor("keys-rotate"),
                progress=progress_echo("re-wrapping data keys"),
                rewrap=not no_rewrap,
            )
        except Exception as exc:
            if store.keys.keyring.active_version() == before:
                raise
            raise click.ClickException(
                f"key-encryption key v{store.keys.keyring.active_version()} is active but the re-wrap "
                f"stopped ({exc}): every record stays readable; run `register keys rewrap` to finish"
            ) from None
        if no_rewrap:
            click.echo(
                f"key-encryption key v{version} is active; no data key moved yet: install the key file on "
                "every host, then run `register keys rewrap`"
            )
        else:
            click.echo(
                f"key-encryption key v{version} is active; {count} data keys re-wrapped. Older versions stay "
                "readable until retired."
            )


@keys.command("rewrap")
@click.pass_obj
def keys_rewrap(settings: Settings) -> None:
    """Finish an interrupted rotation, or empty a retiring version: re-wrap data keys still under older
    versions (in batches, progress shown; safe to interrupt and rerun while the register runs)."""
    with open_store(settings) as store:
        count = keys_service.rewrap_data_keys(
            store, SystemActor("keys-rewrap"), progress=progress_echo("re-wrapping data keys")
        )
        click.echo(f"{count} data keys re-wrapped")


@keys.command("retire")
@click.argument("version")
@click.pass_obj
def keys_retire(settings: Settings, version: str) -> None:
    """Retire a key-encryption key version no data key uses any more (refused, the version left retiring,
    while any data key, including one being written, is still wrapped under it)."""
    with open_store(settings) as store:
        try:
            keys_service.retire(store, SystemActor("keys-retire"), version)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"key-encryption key v{version} retired")


@main.group()
def tokens() -> None:
    """Blind-index tokens (exact-match lookups without decryption)."""


@tokens.command("rebuild")
@click.pass_obj
def tokens_rebuild(settings: Settings) -> None:
    """Recompute every record's blind-index tokens (after an upgrade that adds token kinds)."""
    with open_store(settings) as store:
        count = keys_service.rebuild_tokens(
            store, SystemActor("tokens-rebuild"), progress=progress_echo("rebuilding tokens")
        )
        click.echo(f"tokens rebuilt for {count} records")


@main.command("reencrypt")
@click.option(
    "--nominal", "nominals", multiple=True, type=click.UUID, help="a record to re-encrypt (repeatable)"
)
@click.option("--all", "everything", is_flag=True, help="re-encrypt every record")
@click.pass_obj
def reencrypt(settings: Settings, nominals: tuple[uuid.UUID, ...], everything: bool) -> None:
    """Give records fresh data keys and reseal every value; the old data keys are deleted."""
    if not nominals and not everything:
        raise click.UsageError("name records with --nominal ID, or use --all")
    with open_store(settings) as store:
        count = keys_service.reencrypt(
            store,
            SystemActor("reencrypt"),
            None if everything else list(nominals),
            progress=progress_echo("re-encrypting records"),
        )
        click.echo(f"{count} records re-encrypted")
