"""Key material: versioned key-encryption keys behind a provider interface, plus the
blind-index and audit-chain root keys.

Development keys live in files under the key directory, generated on first run.
Production keeps the key-encryption keys in a KMS or HSM: implement `KeyProvider`
against it (wrap/unwrap never expose the key) and select it in `bootstrap`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


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


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


@dataclass
class _Kek:
    key: bytes
    created_at: str
    retired: bool = False


class LocalKeyring:
    """Key-encryption keys in a JSON file: `{"active": "2", "keys": {"1": {...}, "2": {...}}}`.

    Wrapping is AES-256-GCM with the data key's id as associated data, so a wrapped
    key copied onto another data-key row does not unwrap.
    """

    FILE = "kek.json"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, _Kek] = {}
        self._active = ""
        self._load()

    @classmethod
    def create(cls, path: Path) -> LocalKeyring:
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        doc = {"active": "1", "keys": {"1": {"key": _b64(AESGCM.generate_key(256)), "created_at": now, "retired": False}}}
        _write_private(path, json.dumps(doc, indent=2))
        return cls(path)

    def _load(self) -> None:
        try:
            doc = json.loads(self.path.read_text())
            self._active = str(doc["active"])
            self._keys = {str(v): _Kek(_unb64(k["key"]), k.get("created_at", ""), bool(k.get("retired", False))) for v, k in doc["keys"].items()}
        except FileNotFoundError:
            raise KeyNotAvailable(f"key-encryption keyring {self.path} not found: set REGISTER_KEY_DIR to the directory holding {self.FILE}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyNotAvailable(f"key-encryption keyring {self.path} is malformed: {exc}") from None
        if self._active not in self._keys or any(len(k.key) != 32 for k in self._keys.values()):
            raise KeyNotAvailable(f"key-encryption keyring {self.path} is malformed: the active version must exist and keys be 256-bit")

    def _save(self) -> None:
        doc = {
            "active": self._active,
            "keys": {v: {"key": _b64(k.key), "created_at": k.created_at, "retired": k.retired} for v, k in self._keys.items()},
        }
        _write_private(self.path, json.dumps(doc, indent=2))

    def active_version(self) -> str:
        return self._active

    def versions(self) -> list[str]:
        return sorted(self._keys, key=int)

    def retired(self, version: str) -> bool:
        return self._keys[version].retired

    def key_for_check(self, version: str) -> bytes:
        return self._key(version)

    def _key(self, version: str) -> bytes:
        kek = self._keys.get(version)
        if kek is None:
            raise KeyNotAvailable(f"key-encryption key version {version} is not in {self.path}: restore it from the key backup")
        if kek.retired:
            raise KeyNotAvailable(f"key-encryption key version {version} is retired: rotate data keys off it before retiring it")
        return kek.key

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        nonce = secrets.token_bytes(12)
        return self._active, nonce + AESGCM(self._key(self._active)).encrypt(nonce, data_key, b"register-dek|" + context)

    def unwrap(self, version: str, wrapped: bytes, context: bytes) -> bytes:
        key = self._key(version)
        try:
            return AESGCM(key).decrypt(wrapped[:12], wrapped[12:], b"register-dek|" + context)
        except InvalidTag:
            raise KeyMismatch(
                f"a data key does not unwrap under key-encryption key version {version}: the key file holds the wrong key or the wrapped key was altered"
            ) from None

    def add_version(self) -> str:
        """A new key-encryption key, made active. Older versions stay readable until retired."""
        version = str(max(int(v) for v in self._keys) + 1)
        self._keys[version] = _Kek(AESGCM.generate_key(256), dt.datetime.now(dt.timezone.utc).isoformat())
        self._active = version
        self._save()
        return version

    def retire(self, version: str) -> None:
        if version == self._active:
            raise KeyProblem(f"key-encryption key version {version} is active: rotate to a new version first")
        self._key(version)
        self._keys[version].retired = True
        self._save()


class RootKey:
    """A 256-bit secret in a file: the root of the blind-index keys or of the audit chain key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = _unb64(path.read_text().strip())
        except FileNotFoundError:
            raise KeyNotAvailable(f"key file {path} not found: set REGISTER_KEY_DIR to the directory holding it") from None
        except ValueError:
            raise KeyNotAvailable(f"key file {path} is not base64") from None
        if len(raw) != 32:
            raise KeyNotAvailable(f"key file {path} must hold a 256-bit key")
        self.material = raw

    @classmethod
    def create(cls, path: Path) -> RootKey:
        _write_private(path, _b64(secrets.token_bytes(32)) + "\n")
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
            LocalKeyring.create(paths[0])
            RootKey.create(paths[1])
            RootKey.create(paths[2])
        return cls(LocalKeyring(paths[0]), RootKey(paths[1]), RootKey(paths[2]))
