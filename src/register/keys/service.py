"""Key management: rotate the key-encryption key, re-encrypt records under new data keys.

Rotation re-wraps data keys without touching a single sealed value. Re-encryption
gives a record a fresh data key and reseals every value of it; the old data key is
then deleted (crypto-shredding whatever copy of the old ciphertext survives in a
backup once the backup's keys expire).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import OperationalError

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..crypto.keys import KeyNotAvailable
from ..domain.actors import Actor
from ..merges.repository import dismissal_row_id
from ..photos.repository import bound_to as photo_seal_binding
from ..store import models as m
from ..store.cipher import fence_for_wrapping, key_barrier, mark_kek_state, verify_keys
from ..store.records import count_records, id_batches
from ..store.store import Store
from ..store.sweep import Progress, no_progress, sweep
from ..store.uow import UnitOfWork
from ..usecase.core import use_case


def rewrap_data_keys(
    store: Store,
    actor: Actor,
    *,
    batch: int = 500,
    progress: Progress = no_progress,
    version: str | None = None,
) -> int:
    """Re-wrap every data key not under the active key-encryption key (or only those under `version`), one
    transaction per batch. Safe to interrupt and rerun, and to run beside a working register: each batch
    re-reads the keyring, so a rotation meanwhile is followed. Data keys under a retired version whose
    material the key file still holds are moved too (a register before issue #17 could write them)."""
    keyring = store.keys.keyring

    def pending(active: str):
        return m.DataKey.kek_version == version if version is not None else m.DataKey.kek_version != active

    with store.session_factory() as session:
        total = session.execute(
            select(func.count()).select_from(m.DataKey).where(pending(keyring.active_version()))
        ).scalar_one()

    emptied: list[bool] = []  # the sweep ran out of data keys to move (rather than meeting a rotation)

    def step(uow: UnitOfWork, _: int) -> int | None:
        active = fence_for_wrapping(uow.session, keyring)  # a retirement waits for this batch
        if version == active:
            return None
        rows = uow.session.execute(
            select(m.DataKey.id, m.DataKey.kek_version, m.DataKey.wrapped).where(pending(active)).limit(batch)
        ).all()
        if not rows:
            emptied.append(True)
            return None
        changes = []
        for row in rows:
            data_key = keyring.unwrap(row.kek_version, row.wrapped, row.id.bytes, allow_retired=True)
            # under `active` or newer (a rotation meanwhile)
            wrapped_under, wrapped = keyring.wrap(data_key, row.id.bytes)
            changes.append({"id": row.id, "kek_version": wrapped_under, "wrapped": wrapped})
        uow.session.execute(update(m.DataKey), changes)
        uow.audit.record(
            AuditEntry(
                Action.ADMINISTRATION,
                Tag.KEYS_DATA_KEYS_REWRAP,
                actor,
                details={"count": len(changes), "kek_version": active},
            )
        )
        return len(rows)

    done = sweep(store, itertools.count(), step, total=total, progress=progress)
    if emptied and done < total:
        progress(total, total)
    return done


class KeysInUse(ValueError):
    """A retirement refused: data keys are still wrapped under the version."""


def missing_versions(store) -> list[str]:
    """Versions data keys are wrapped under that the key file does not hold (a rewrap could not move them)."""
    known = set(store.keys.keyring.versions())
    return sorted((v for v in key_usage(store) if v not in known), key=lambda v: (len(v), v))


def rotate(
    store: Store, actor: Actor, *, progress: Progress = no_progress, rewrap: bool = True
) -> tuple[str, int]:
    """A new key-encryption key becomes active; every data key is re-wrapped under it.

    Checked first, so that a rotation does not stop half way for a reason known in advance. The new version is
    in the key file (written atomically) before any data key moves; if the re-wrap is interrupted, `register
    keys rewrap` finishes it, and everything stays readable meanwhile."""
    missing = missing_versions(store)
    if missing:
        raise KeyNotAvailable(
            f"data keys are wrapped under version(s) {', '.join(missing)} which {store.keys.keyring.path} "
            "does not hold: restore them from the key backup before rotating (nothing was changed)"
        )
    version = store.keys.keyring.add_version()
    with store.unit_of_work() as uow:
        verify_keys(uow.session, store.keys)  # records the new version's check value
        uow.audit.record(
            AuditEntry(Action.ADMINISTRATION, Tag.KEYS_KEK_ROTATE, actor, details={"kek_version": version})
        )
    return version, rewrap_data_keys(store, actor, progress=progress) if rewrap else 0


def retire(store, actor: Actor, version: str) -> None:
    """Retire a key-encryption key version once no data key is wrapped under it, counting the ones being
    written.

    1. The version is marked retiring in the key file: every process re-reads the file before it wraps, and
       only ever wraps under the active version, so nothing new is wrapped under it (it stays readable).
    2. A barrier waits for every transaction that may have wrapped a data key before it saw the change
       (`key_barrier`), then the data keys still under the version are counted.
    3. None: the version is retired. Some: refused, the version stays retiring; `register keys rewrap` moves
       them.
    """
    keyring = store.keys.keyring
    if version not in keyring.versions():
        raise ValueError(f"there is no key-encryption key version {version}")
    state = keyring.state(version)
    if state == "active":
        raise ValueError(
            f"key-encryption key version {version} is active: rotate to a new version before retiring it"
        )
    if state == "retired":
        raise ValueError(f"key-encryption key version {version} is already retired")
    keyring.mark_retiring(version)
    # For processes whose copy of the key file is out of date (another host)
    with store.unit_of_work() as uow:
        mark_kek_state(uow.session, version, "retiring")
    with store.unit_of_work() as uow:
        try:
            key_barrier(uow.session)
        except OperationalError as exc:  # PostgreSQL's lock_timeout: a long transaction is still writing
            raise KeysInUse(
                f"a transaction that may be writing data keys did not finish in time ({exc.orig}): retire "
                "again"
            ) from None
        still = uow.session.execute(
            select(func.count()).select_from(m.DataKey).where(m.DataKey.kek_version == version)
        ).scalar_one()
        if still:
            raise KeysInUse(
                f"{still} data keys are still wrapped under version {version}: run `register keys rewrap`, "
                f"then retire again (version {version} stays retiring: readable, and nothing new is wrapped "
                "under it)"
            )
        keyring.retire(version)  # while the barrier holds: no data key can be wrapped meanwhile
        mark_kek_state(uow.session, version, "retired")
        uow.audit.record(
            AuditEntry(Action.ADMINISTRATION, Tag.KEYS_KEK_RETIRE, actor, details={"kek_version": version})
        )


def key_usage(store) -> dict[str, int]:
    with store.session_factory() as session:
        return {
            v: n
            for v, n in session.execute(
                select(m.DataKey.kek_version, func.count()).group_by(m.DataKey.kek_version)
            )
        }


@dataclass(frozen=True)
class Sealed:
    """A sealed column of a record's own rows: where it is, which column names the owning record, what the
    seal is bound to (the row's id, or for a dismissal the pair)."""

    model: Any
    table: str
    column: str
    owner: str = "nominal_id"
    bound_to: Callable[[Any], uuid.UUID | str] = lambda row: row.id


SEALED = (
    Sealed(m.Item, "item", "payload_sealed"),
    Sealed(m.ChronologyEntry, "chronology_entry", "payload_sealed"),
    Sealed(m.Transfer, "transfer", "details_sealed"),
    Sealed(m.Merge, "merge", "unmerge_reason_sealed", owner="survivor_id"),
    Sealed(
        m.Photo,
        "photo",
        "image_sealed",
        bound_to=lambda row: photo_seal_binding(row.nominal_id, row.photo_id, row.variant),
    ),
    Sealed(
        m.DuplicateDismissal,
        "duplicate_dismissal",
        "reason_sealed",
        owner="first_id",
        bound_to=lambda row: dismissal_row_id(row.first_id, row.second_id),
    ),
)


@use_case(Tag.KEYS_RECORD_REENCRYPT, Action.ADMINISTRATION)
def reencrypt_record(uow: UnitOfWork, actor: Actor, nominal_id: uuid.UUID) -> int:
    """Reseal every value of one record under a fresh data key. Returns the number of values resealed."""
    nominal = uow.nominals.header_row(nominal_id, for_update=True)
    new_key = uow.cipher.new_key(nominal_id)
    identity = uow.cipher.open(
        nominal.data_key_id, "nominal", "identity_sealed", nominal.id, nominal.identity_sealed
    )
    uow.session.execute(
        update(m.Nominal)
        .where(m.Nominal.id == nominal_id)
        .values(
            data_key_id=new_key,
            identity_sealed=uow.cipher.seal(new_key, "nominal", "identity_sealed", nominal_id, identity),
        )
    )
    count = 1
    for spec in SEALED:
        table = spec.model.__table__
        rows = uow.session.execute(
            select(table).where(table.c[spec.owner] == nominal_id, table.c[spec.column].is_not(None))
        ).all()
        uow.cipher.load({r.data_key_id for r in rows})
        changes = []
        for r in rows:
            bound = spec.bound_to(r)
            opened = uow.cipher.open(r.data_key_id, spec.table, spec.column, bound, getattr(r, spec.column))
            changes.append(
                {"row_id": r.id, "sealed": uow.cipher.seal(new_key, spec.table, spec.column, bound, opened)}
            )
        if changes:  # one executemany per table
            uow.session.connection().execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({"data_key_id": new_key, spec.column: bindparam("sealed")}),
                changes,
            )
        count += len(rows)
    # The record's old keys that seal nothing any more are deleted (a key still sealing rows elsewhere, e.g.
    # items returned to another record by an unmerge, is kept).
    in_use = [exists(select(t.model.id).where(t.model.data_key_id == m.DataKey.id)) for t in SEALED] + [
        exists(select(m.Nominal.id).where(m.Nominal.data_key_id == m.DataKey.id))
    ]
    uow.session.execute(
        delete(m.DataKey).where(m.DataKey.nominal_id == nominal_id, m.DataKey.id != new_key, ~or_(*in_use))
    )
    uow.audit.record(
        AuditEntry(
            Action.ADMINISTRATION,
            Tag.KEYS_RECORD_REENCRYPT,
            actor,
            nominal_id=nominal_id,
            details={"values": count},
        )
    )
    return count


def reencrypt(
    store: Store,
    actor: Actor,
    nominal_ids: list[uuid.UUID] | None = None,
    *,
    progress: Progress = no_progress,
) -> int:
    """Re-encrypt the given records (default: all), one transaction per record."""
    if nominal_ids is not None:
        ids: Iterable[uuid.UUID] = nominal_ids
        total = len(nominal_ids)
    else:
        ids = (i for batch in id_batches(store.session_factory, 500) for i in batch)
        total = count_records(store.session_factory)

    def step(uow: UnitOfWork, nominal_id: uuid.UUID) -> int:
        reencrypt_record(uow, actor, nominal_id)
        return 1

    return sweep(store, ids, step, total=total, progress=progress)


def rebuild_tokens(store: Store, actor: Actor, *, batch: int = 200, progress: Progress = no_progress) -> int:
    """Recompute every record's blind-index tokens (after the token definitions change, or a blind-index key
    rotation). One transaction per batch; safe to interrupt and rerun."""

    def step(uow: UnitOfWork, ids: list[uuid.UUID]) -> int:
        uow.nominals.replace_all_tokens(uow.nominals.load_many(ids, chronology=True))
        uow.audit.record(
            AuditEntry(
                Action.ADMINISTRATION, Tag.KEYS_BLIND_TOKENS_REBUILD, actor, details={"records": len(ids)}
            )
        )
        return len(ids)

    # Records written from here on carry the current tokens; those before it are rebuilt below. Only a pass
    # that got through every record may say so (an interrupted one leaves the version as it was).
    done = sweep(
        store,
        id_batches(store.session_factory, batch),
        step,
        total=count_records(store.session_factory),
        progress=progress,
    )
    with store.unit_of_work() as uow:
        uow.session.execute(update(m.TokenVersion).values(version=m.TOKENS_VERSION))
    return done


@dataclass(frozen=True)
class KeyStatus:
    version: str
    state: str
    data_keys: int


@use_case(Tag.KEYS_STATUS_READ, Action.ADMINISTRATION)
def status(uow: UnitOfWork, actor: Actor, *, request_id: str | None = None) -> list[KeyStatus]:
    """Key-encryption key versions, their state and how many data keys each wraps (never key material)."""
    ring = uow.store.keys.keyring
    usage: dict[str, int] = {
        v: n
        for v, n in uow.session.execute(
            select(m.DataKey.kek_version, func.count()).group_by(m.DataKey.kek_version)
        )
    }
    uow.audit.record(AuditEntry(Action.ADMINISTRATION, Tag.KEYS_STATUS_READ, actor, request_id=request_id))
    return [KeyStatus(v, ring.state(v), usage.get(v, 0)) for v in ring.versions()]
