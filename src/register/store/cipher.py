"""Per-record data keys and sealing of column values, within one database session.

A unit of work unwraps each data key it needs once and caches it for its own life only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from ..crypto.envelope import associated_data, new_data_key, open_sealed, seal
from ..crypto.keys import KeyMismatch, KeyNotAvailable, KeyProvider, KeySet
from .models import DataKey, KeyCheck

# Wrapping a data key and retiring a key-encryption key version are fenced against each other, so that a
# retirement sees every data key being written: a transaction that wraps holds the fence shared from before it
# reads the keyring until it ends; a retirement takes it exclusively (after marking the version retiring)
# before it counts what is left. PostgreSQL: a transaction-level advisory lock. SQLite: the database's single
# write lock (a no-op UPDATE takes it).
KEY_FENCE = 0x7265_6B66  # "rekf"


def hold_key_fence(session: Session) -> None:
    """Before wrapping under the active version: a retirement cannot count data keys until this transaction
    ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": KEY_FENCE})
    else:
        session.execute(text("UPDATE key_check SET name = name WHERE 0"))


def key_barrier(session: Session) -> None:
    """Wait for every transaction holding the fence to end; hold it exclusively until this transaction
    ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEY_FENCE})
    else:
        session.execute(text("UPDATE key_check SET name = name WHERE 0"))


def kek_state_name(version: str) -> str:
    return f"kek-state:{version}"


def mark_kek_state(session: Session, version: str, state: str) -> None:
    """Record in the database that a key-encryption key version is retiring or retired, for processes whose
    copy of the key file is out of date (one per host): they refuse to wrap under it instead of writing data
    keys that a retirement would make unreadable. A row of `key_check` named `kek-state:V`; `verify_keys`
    ignores it."""
    name = kek_state_name(version)
    now = dt.datetime.now(dt.UTC)
    if session.execute(select(KeyCheck.name).where(KeyCheck.name == name)).first() is None:
        session.execute(insert(KeyCheck).values(name=name, check_value=state.encode(), created_at=now))
    else:
        session.execute(
            update(KeyCheck).where(KeyCheck.name == name).values(check_value=state.encode(), created_at=now)
        )


def fence_for_wrapping(session: Session, keyring: KeyProvider) -> str:
    """Hold the fence (see KEY_FENCE), then make sure the active version of the key file as it is now is fit
    to wrap under: not one the database says is retiring or retired (re-reading the key file once if it is),
    and the key this database recorded for that version (a key file swapped for another one is refused, not
    written with). Returns that version; wrapping in this transaction afterwards uses it or a newer one."""
    hold_key_fence(session)
    for attempt in range(2):
        version = keyring.active_version()
        found = dict(
            session.execute(
                select(KeyCheck.name, KeyCheck.check_value).where(
                    KeyCheck.name.in_([f"kek:{version}", kek_state_name(version)])
                )
            ).all()
        )
        check, state = found.get(f"kek:{version}"), found.get(kek_state_name(version))
        key_for_check = getattr(keyring, "key_for_check", None)
        if (
            check is not None
            and key_for_check is not None
            and not hmac.compare_digest(bytes(check), _check_value(key_for_check(version), f"kek:{version}"))
        ):
            raise KeyMismatch(
                f"the kek:{version} key in the key file is not the key this database was written with: "
                "restore the right key file (nothing was written)"
            )
        if state is None:
            return version
        if attempt == 0:
            keyring.refresh()
    assert state is not None  # the loop returned otherwise
    raise KeyNotAvailable(
        f"key-encryption key version {version} is {bytes(state).decode(errors='replace')} but it is still "
        "the active version in this process's key file: the key file here is out of date: install the "
        "current one (nothing was written)"
    )


class RecordCipher:
    def __init__(self, session: Session, keyring: KeyProvider) -> None:
        self.session = session
        self.keyring = keyring
        self._keys: dict[uuid.UUID, bytes] = {}
        # Wrapped keys read with their records' rows (`offer`), unwrapped only if a value is opened or sealed.
        self._offered: dict[uuid.UUID, tuple[str, bytes]] = {}
        # One AES-GCM object per key, made once: a record opens about 30 values under its key.
        self._aeads: dict[uuid.UUID, AESGCM] = {}

    def new_key(self, nominal_id: uuid.UUID) -> uuid.UUID:
        key_id = uuid.uuid4()
        data_key = new_data_key()
        fence_for_wrapping(self.session, self.keyring)
        version, wrapped = self.keyring.wrap(data_key, key_id.bytes)
        self.session.execute(
            insert(DataKey).values(
                id=key_id,
                nominal_id=nominal_id,
                kek_version=version,
                wrapped=wrapped,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        self._keys[key_id] = data_key
        return key_id

    def load(self, key_ids: Iterable[uuid.UUID]) -> None:
        """Unwrap every key not yet cached: those offered with their rows here, the rest from one query."""
        wanted = set(key_ids) - self._keys.keys()
        for key_id in wanted & self._offered.keys():
            self._unwrap_offered(key_id)
        wanted -= self._keys.keys()
        if not wanted:
            return
        # A Core statement on the table, and for one key (a record's read: its items and entries share the
        # record's key) an equality: the ORM's statement setup and an IN list rendered anew on every
        # execution were most of a read's key lookup (py-spy, 100,000 people).
        keys = DataKey.__table__.c
        which = keys.id == next(iter(wanted)) if len(wanted) == 1 else keys.id.in_(wanted)
        self.accept(self.session.execute(select(keys.id, keys.kek_version, keys.wrapped).where(which)))
        missing = wanted - self._keys.keys()
        if missing:
            raise KeyMismatch(f"data keys {sorted(map(str, missing))} are missing from the database")

    def accept(self, keys: Iterable[tuple[uuid.UUID, str, bytes]]) -> None:
        """Unwrap data keys a caller read with the rows they open (`key_id`, `kek_version`, `wrapped`), in its
        own query: one round trip less than `load` after it."""
        for key_id, version, wrapped in keys:
            if key_id not in self._keys:
                self._keys[key_id] = self.keyring.unwrap(version, wrapped, key_id.bytes)

    def offer(self, keys: Iterable[tuple[uuid.UUID, str, bytes]]) -> None:
        """Wrapped data keys read with their records' rows (`header_row`), as `accept` takes them: kept
        wrapped, and unwrapped only when a value under one is opened or sealed, so a read or a change that
        needs the key makes no round trip for it and a request that needs none (a refusal) unwraps nothing."""
        for key_id, version, wrapped in keys:
            if key_id not in self._keys:
                self._offered[key_id] = (version, wrapped)

    def _unwrap_offered(self, key_id: uuid.UUID) -> None:
        version, wrapped = self._offered.pop(key_id)
        # rewrapped off that version since the row was read: `load` reads it again
        with contextlib.suppress(KeyNotAvailable):
            self._keys[key_id] = self.keyring.unwrap(version, wrapped, key_id.bytes)

    def _key(self, key_id: uuid.UUID) -> bytes:
        if key_id not in self._keys:
            self.load([key_id])
        return self._keys[key_id]

    def seal(
        self, key_id: uuid.UUID, table: str, column: str, row_id: uuid.UUID | str, plaintext: bytes
    ) -> bytes:
        return seal(self._key(key_id), plaintext, associated_data(table, column, row_id))

    def open(
        self, key_id: uuid.UUID, table: str, column: str, row_id: uuid.UUID | str, sealed: bytes
    ) -> bytes:
        aead = self._aeads.get(key_id)
        if aead is None:
            aead = self._aeads[key_id] = AESGCM(self._key(key_id))
        return open_sealed(aead, sealed, associated_data(table, column, row_id))

    def opener(self, table: str, column: str) -> Callable[[uuid.UUID | str, uuid.UUID | str, bytes], bytes]:
        """`open` for many values of one column (`open(key_id, row_id, sealed)`, either id a UUID or its
        text), with the associated data's prefix made once: a reindex opens about thirty values a record."""
        prefix = associated_data(table, column, "")
        aeads: dict[uuid.UUID | str, AESGCM] = {}

        def open_(key_id: uuid.UUID | str, row_id: uuid.UUID | str, sealed: bytes) -> bytes:
            aead = aeads.get(key_id)
            if aead is None:
                uid = key_id if isinstance(key_id, uuid.UUID) else uuid.UUID(key_id)
                aead = self._aeads.get(uid) or AESGCM(self._key(uid))
                self._aeads[uid] = aeads[key_id] = aead
            return open_sealed(aead, sealed, prefix + str(row_id).encode())

        return open_


def _check_value(key: bytes, name: str) -> bytes:
    return hmac.new(key, f"register-key-check|{name}".encode(), hashlib.sha256).digest()


def verify_keys(session: Session, keys: KeySet) -> None:
    """Refuse to run with keys other than the ones this database was written with.

    The first time a key is seen its check value is recorded; afterwards a different
    key under the same name is refused with a clear error before anything is written.
    """
    ring = keys.keyring
    expected = {f"kek:{v}": ring.key_for_check(v) for v in ring.versions() if not ring.retired(v)}
    expected["blind-index"] = keys.blind_root.material
    expected["audit-chain"] = keys.audit_root.material
    stored = {
        row.name: row.check_value for row in session.execute(select(KeyCheck.name, KeyCheck.check_value))
    }
    now = dt.datetime.now(dt.UTC)
    for name, key in expected.items():
        value = _check_value(key, name)
        if name not in stored:
            session.execute(insert(KeyCheck).values(name=name, check_value=value, created_at=now))
        elif not hmac.compare_digest(stored[name], value):
            raise KeyMismatch(
                f"the {name} key in the key directory is not the key this database was written with: "
                "restore the right key files (nothing was changed)"
            )
