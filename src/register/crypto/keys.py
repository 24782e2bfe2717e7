"""Key material: versioned key-encryption keys behind a provider interface, plus the
blind-index and audit-chain root keys.

Development keys live in files under the key directory, generated on first run.
Production keeps the key-encryption keys in a KMS or HSM: implement `KeyProvider`
against it (wrap/unwrap never expose the key) and select it in `bootstrap`.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)


class KeyProblem(Exception):
    """Base for key problems: each message says what is wrong and what to do."""


class KeyNotAvailable(KeyProblem):
    pass


class KeyMismatch(KeyProblem):
    pass


class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a versioned key-encryption key."""

    def active_version(self) -> str: ...

    def versions(self) -> list[str]: ...

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]: ...

    def unwrap(self, version: str, wrapped: bytes, context: bytes) -> bytes: ...

    def refresh(self) -> None: ...


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def private_dir(directory: Path, *, tighten: bool = False) -> None:
    """Create the key directory owner-only (0700) whatever the umask. With `tighten` (when generating keys
    into it), make an existing directory this process owns owner-only too."""
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tighten = True
    st = directory.stat()
    if tighten and st.st_mode & 0o077 and st.st_uid == os.geteuid():
        os.chmod(directory, 0o700)


def write_private(path: Path, text: str) -> None:
    """Write a key file atomically and owner-only (0600): a fresh temporary file beside it, flushed to disk,
    renamed over the old one, then the directory flushed. A reader sees the old file or the new one, never a
    partial one."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


READABLE, RETIRING, RETIRED = "readable", "retiring", "retired"
STATES = (READABLE, RETIRING, RETIRED)


@dataclass(frozen=True)
class _Kek:
    key: bytes
    created_at: str
    # readable | retiring (readable, never wrapped under, being emptied) | retired (never used)
    state: str = READABLE


@dataclass(frozen=True)
class _Ring:
    """One reading of the key file: never changed, replaced whole when the file changes."""

    active: str
    keys: dict[str, _Kek]
    raw: bytes
    stamp: tuple[int, int, int, int]


@dataclass
class _Change:
    """The key file's contents being changed under the lock: written back as they are when the change ends."""

    active: str
    keys: dict[str, _Kek]


class LocalKeyring:
    """Key-encryption keys in a JSON file: `{"active": "2", "keys": {"1": {...}, "2": {...}}}`.

    Wrapping is AES-256-GCM with the data key's id as associated data, so a wrapped
    key copied onto another data-key row does not unwrap.

    Every process (API workers, indexers, commands) sees a changed file without a restart: each use stats the
    file (cheap) and re-reads it when its inode, size or times changed, so `register keys rotate` or `retire`
    run beside a running API take effect in it at once. `wrap` always wraps under the active version of a
    fresh reading; the active version is never retiring or retired. Changes (add_version, mark_retiring,
    retire) hold an exclusive lock on `kek.json.lock`, re-read the file under it and replace it atomically
    (`write_private`).
    """

    FILE = "kek.json"
    # A file changed this recently may change again within one timestamp tick: compare its bytes.
    RACY_NS = 2_000_000_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ring = self._read()

    @classmethod
    def create(cls, path: Path) -> LocalKeyring:
        now = dt.datetime.now(dt.UTC).isoformat()
        doc = {
            "active": "1",
            "keys": {
                "1": {
                    "key": _b64(AESGCM.generate_key(256)),
                    "created_at": now,
                    "retired": False,
                    "state": READABLE,
                }
            },
        }
        write_private(path, json.dumps(doc, indent=2))
        return cls(path)

    # ---------------------------------------------------------------- reading the file

    @staticmethod
    def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _read(self) -> _Ring:
        try:
            st = os.stat(self.path)
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise KeyNotAvailable(
                f"key-encryption keyring {self.path} not found: set REGISTER_KEY_DIR to the directory "
                f"holding {self.FILE}"
            ) from None
        return self._parse(raw, self._stamp(st))

    def _parse(self, raw: bytes, stamp: tuple[int, int, int, int]) -> _Ring:
        try:
            doc = json.loads(raw)
            active = str(doc["active"])
            keys = {}
            for v, k in doc["keys"].items():
                state = str(k.get("state") or (RETIRED if k.get("retired", False) else READABLE))
                if state not in STATES:
                    raise ValueError(f"version {v} has unknown state {state!r}")
                keys[str(v)] = _Kek(_unb64(k["key"]), k.get("created_at", ""), state)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyNotAvailable(f"key-encryption keyring {self.path} is malformed: {exc}") from None
        if active not in keys or any(len(k.key) != 32 for k in keys.values()):
            raise KeyNotAvailable(
                f"key-encryption keyring {self.path} is malformed: the active version must exist and keys be "
                "256-bit"
            )
        if keys[active].state != READABLE:
            raise KeyNotAvailable(
                f"key-encryption keyring {self.path} is malformed: the active version {active} is "
                f"{keys[active].state}"
            )
        return _Ring(active, keys, raw, stamp)

    def _current(self) -> _Ring:
        """The keyring as the file holds it now: re-read only when the file changed."""
        ring = self._ring
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            log.error("key-encryption keyring %s disappeared; keeping the keys read earlier", self.path)
            return ring
        stamp = self._stamp(st)
        if stamp == ring.stamp and time.time_ns() - st.st_mtime_ns > self.RACY_NS:
            return ring
        with self._lock:
            ring = self._ring
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return ring
            if raw == ring.raw:
                if stamp != ring.stamp:
                    self._ring = ring = _Ring(ring.active, ring.keys, raw, stamp)
                return ring
            try:
                fresh = self._parse(raw, stamp)
                changed = [
                    v
                    for v, k in fresh.keys.items()
                    if v in ring.keys and not secrets.compare_digest(k.key, ring.keys[v].key)
                ]
                if changed:
                    raise KeyNotAvailable(
                        f"key-encryption keyring {self.path} now holds other keys for versions "
                        f"{', '.join(changed)}: a version's key never changes; restore the right key file"
                    )
                self._ring = ring = fresh
            except KeyNotAvailable as exc:
                # a hand edit gone wrong: keep serving with the keys read earlier rather than refuse every
                # record (said once per change of the file; the database still stops wrapping under a retiring
                # version)
                log.error("%s; keeping the keys read earlier", exc)
                self._ring = ring = _Ring(ring.active, ring.keys, raw, stamp)
                return ring
            log.info("key-encryption keyring %s re-read: active version %s", self.path, ring.active)
            return ring

    def refresh(self) -> None:
        self._current()

    def active_version(self) -> str:
        return self._current().active

    def versions(self) -> list[str]:
        return sorted(self._current().keys, key=int)

    def state(self, version: str) -> str:
        """active, readable, retiring or retired."""
        ring = self._current()
        if version not in ring.keys:
            raise KeyNotAvailable(f"key-encryption key version {version} is not in {self.path}")
        return "active" if version == ring.active else ring.keys[version].state

    def retired(self, version: str) -> bool:
        return self.state(version) == RETIRED

    def key_for_check(self, version: str) -> bytes:
        return self._key(self._current(), version, allow_retired=True)

    def _key(self, ring: _Ring, version: str, *, allow_retired: bool = False) -> bytes:
        kek = ring.keys.get(version)
        if kek is None:
            raise KeyNotAvailable(
                f"key-encryption key version {version} is not in {self.path}: restore it from the key backup"
            )
        if kek.state == RETIRED and not allow_retired:
            raise KeyNotAvailable(
                f"key-encryption key version {version} is retired: run `register keys rewrap` to move data "
                "keys off it"
            )
        return kek.key

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        ring = self._current()  # fresh: never a version retired or being retired since this process started
        nonce = secrets.token_bytes(12)
        return ring.active, nonce + AESGCM(self._key(ring, ring.active)).encrypt(
            nonce, data_key, b"register-dek|" + context
        )

    def unwrap(self, version: str, wrapped: bytes, context: bytes, *, allow_retired: bool = False) -> bytes:
        """`allow_retired` only for moving a data key off a retired version whose material the file still
        holds."""
        key = self._key(self._current(), version, allow_retired=allow_retired)
        try:
            return AESGCM(key).decrypt(wrapped[:12], wrapped[12:], b"register-dek|" + context)
        except InvalidTag:
            raise KeyMismatch(
                f"a data key does not unwrap under key-encryption key version {version}: the key file holds "
                "the wrong key or the wrapped key was altered"
            ) from None

    # ---------------------------------------------------------------- changing the file

    @contextmanager
    def _changing(self) -> Iterator[_Change]:
        """Read-modify-write under an exclusive lock shared by every process using this key directory."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            private_dir(lock_path.parent)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyProblem(
                f"cannot change {self.path} ({exc.strerror}): run key changes where the key directory is "
                "writable (nothing was changed)"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            ring = self._read()
            change = _Change(ring.active, dict(ring.keys))
            yield change
            active, keys = change.active, change.keys
            doc = {
                "active": active,
                "keys": {
                    v: {
                        "key": _b64(k.key),
                        "created_at": k.created_at,
                        "retired": k.state == RETIRED,
                        "state": k.state,
                    }
                    for v, k in sorted(keys.items(), key=lambda kv: int(kv[0]))
                },
            }
            write_private(self.path, json.dumps(doc, indent=2))
            with self._lock:
                self._ring = self._read()
        finally:
            os.close(fd)  # releases the lock

    def add_version(self) -> str:
        """A new key-encryption key, made active. Older versions stay readable until retired."""
        with self._changing() as change:
            keys = change.keys
            version = str(max(int(v) for v in keys) + 1)
            keys[version] = _Kek(AESGCM.generate_key(256), dt.datetime.now(dt.UTC).isoformat())
            change.active = version
        return version

    def mark_retiring(self, version: str) -> None:
        """First step of retiring: no process wraps under the version any more; it stays readable."""
        self._set_state(version, RETIRING)

    def retire(self, version: str) -> None:
        self._set_state(version, RETIRED)

    def _set_state(self, version: str, state: str) -> None:
        with self._changing() as change:
            active, keys = change.active, change.keys
            if version not in keys:
                raise KeyNotAvailable(f"key-encryption key version {version} is not in {self.path}")
            if version == active:
                raise KeyProblem(
                    f"key-encryption key version {version} is active: rotate to a new version first"
                )
            if keys[version].state == RETIRED and state != RETIRED:
                raise KeyProblem(f"key-encryption key version {version} is retired")
            keys[version] = replace(keys[version], state=state)


class RootKey:
    """A 256-bit secret in a file: the root of the blind-index keys or of the audit chain key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = _unb64(path.read_text().strip())
        except FileNotFoundError:
            raise KeyNotAvailable(
                f"key file {path} not found: set REGISTER_KEY_DIR to the directory holding it"
            ) from None
        except ValueError:
            raise KeyNotAvailable(f"key file {path} is not base64") from None
        if len(raw) != 32:
            raise KeyNotAvailable(f"key file {path} must hold a 256-bit key")
        self.material = raw

    @classmethod
    def create(cls, path: Path) -> RootKey:
        write_private(path, _b64(secrets.token_bytes(32)) + "\n")
        return cls(path)


@dataclass
class KeySet:
    """Every key the register needs, loaded from one directory."""

    keyring: LocalKeyring
    blind_root: RootKey
    audit_root: RootKey

    BLIND_FILE = "blind-index.key"
    AUDIT_FILE = "audit-chain.key"

    @classmethod
    def load(cls, key_dir: Path, *, generate: bool) -> KeySet:
        """Load the keys; with `generate` (development only) create any that are missing."""
        paths = (key_dir / LocalKeyring.FILE, key_dir / cls.BLIND_FILE, key_dir / cls.AUDIT_FILE)
        if generate and not any(p.exists() for p in paths):
            private_dir(key_dir, tighten=True)
            LocalKeyring.create(paths[0])
            RootKey.create(paths[1])
            RootKey.create(paths[2])
        return cls(LocalKeyring(paths[0]), RootKey(paths[1]), RootKey(paths[2]))
