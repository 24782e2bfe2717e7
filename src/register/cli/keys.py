"""`register keys`, `register tokens` and `register reencrypt`: key-encryption keys, data keys and blind-index
tokens."""

from __future__ import annotations

import uuid
from typing import Any

import click

from ..config import Settings
from ..domain.actors import SystemActor
from ..keys import service as keys_service
from .base import json_option, main, open_store, progress_echo, report


@main.group()
def keys() -> None:
    """Key-encryption keys and data keys."""


@keys.command("status")
@json_option
@click.pass_obj
def keys_status(settings: Settings, as_json: bool) -> None:
    """Which key-encryption key versions exist and how many data keys each wraps."""
    with open_store(settings) as store:
        ring = store.keys.keyring
        usage = keys_service.key_usage(store)
        versions = [
            {"version": v, "state": ring.state(v), "data_keys": usage.get(v, 0)} for v in ring.versions()
        ] + [
            {"version": v, "state": "missing", "data_keys": usage[v]}
            for v in keys_service.missing_versions(store)
        ]
    report({"versions": versions}, as_json, _status_lines)


def _status_lines(r: dict[str, Any]) -> list[str]:
    return [
        f"kek v{v['version']}: NOT IN THE KEY FILE, wraps {v['data_keys']} data keys: restore it from the "
        "key backup"
        if v["state"] == "missing"
        else f"kek v{v['version']}: {v['state']}, wraps {v['data_keys']} data keys"
        for v in r["versions"]
    ]


@keys.command("rotate")
@click.option(
    "--no-rewrap",
    is_flag=True,
    help="only add the new version (copy the key file to every host, then `keys rewrap`)",
)
@json_option
@click.pass_obj
def keys_rotate(settings: Settings, no_rewrap: bool, as_json: bool) -> None:
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
    report({"active_version": version, "rewrapped": count, "rewrap": not no_rewrap}, as_json, _rotate_lines)


def _rotate_lines(r: dict[str, Any]) -> list[str]:
    if not r["rewrap"]:
        return [
            f"key-encryption key v{r['active_version']} is active; no data key moved yet: install the key "
            "file on every host, then run `register keys rewrap`"
        ]
    return [
        f"key-encryption key v{r['active_version']} is active; {r['rewrapped']} data keys re-wrapped. Older "
        "versions stay readable until retired."
    ]


@keys.command("rewrap")
@json_option
@click.pass_obj
def keys_rewrap(settings: Settings, as_json: bool) -> None:
    """Finish an interrupted rotation, or empty a retiring version: re-wrap data keys still under older
    versions (in batches, progress shown; safe to interrupt and rerun while the register runs)."""
    with open_store(settings, whole_register=True) as store:
        count = keys_service.rewrap_data_keys(
            store, SystemActor("keys-rewrap"), progress=progress_echo("re-wrapping data keys")
        )
    report({"rewrapped": count}, as_json, lambda r: [f"{r['rewrapped']} data keys re-wrapped"])


@keys.command("retire")
@click.argument("version")
@json_option
@click.pass_obj
def keys_retire(settings: Settings, version: str, as_json: bool) -> None:
    """Retire a key-encryption key version no data key uses any more (refused, the version left retiring,
    while any data key, including one being written, is still wrapped under it)."""
    with open_store(settings) as store:
        try:
            keys_service.retire(store, SystemActor("keys-retire"), version)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    report({"retired": version}, as_json, lambda r: [f"key-encryption key v{r['retired']} retired"])


@main.group()
def tokens() -> None:
    """Blind-index tokens (exact-match lookups without decryption)."""


@tokens.command("rebuild")
@json_option
@click.pass_obj
def tokens_rebuild(settings: Settings, as_json: bool) -> None:
    """Recompute every record's blind-index tokens (after an upgrade that adds token kinds)."""
    with open_store(settings, whole_register=True) as store:
        count = keys_service.rebuild_tokens(
            store, SystemActor("tokens-rebuild"), progress=progress_echo("rebuilding tokens")
        )
    report({"records": count}, as_json, lambda r: [f"tokens rebuilt for {r['records']} records"])


@main.command("reencrypt")
@click.option(
    "--nominal", "nominals", multiple=True, type=click.UUID, help="a record to re-encrypt (repeatable)"
)
@click.option("--all", "everything", is_flag=True, help="re-encrypt every record")
@json_option
@click.pass_obj
def reencrypt(settings: Settings, nominals: tuple[uuid.UUID, ...], everything: bool, as_json: bool) -> None:
    """Give records fresh data keys and reseal every value; the old data keys are deleted."""
    if not nominals and not everything:
        raise click.UsageError("name records with --nominal ID, or use --all")
    with open_store(settings, whole_register=True) as store:
        count = keys_service.reencrypt(
            store,
            SystemActor("reencrypt"),
            None if everything else list(nominals),
            progress=progress_echo("re-encrypting records"),
        )
    report({"records": count}, as_json, lambda r: [f"{r['records']} records re-encrypted"])
