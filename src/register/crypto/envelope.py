"""Sealing values with AES-256-GCM under a per-record data key.

Every ciphertext is `version byte | 12-byte random nonce | ciphertext+tag`, and is
bound by associated data to its table, column and row: moved to another row or
column it fails to open.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_V1 = b"\x01"


class TamperedCiphertext(Exception):
    """A value failed authentication: altered, moved to another row or column, or sealed under another key."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(256)


def associated_data(table: str, column: str, row_id: uuid.UUID | str) -> bytes:
    return f"register/v1|{table}|{column}|{row_id}".encode()


def seal(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    return FORMAT_V1 + nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def open_sealed(data_key: bytes | AESGCM, sealed: bytes, aad: bytes) -> bytes:
    """`data_key` may be the key or an `AESGCM` made from it (what opening many values under one key
    reuses)."""
    if not sealed or sealed[:1] != FORMAT_V1 or len(sealed) < 1 + 12 + 16:
        raise TamperedCiphertext("not a sealed value of a known format")
    aead = data_key if isinstance(data_key, AESGCM) else AESGCM(data_key)
    try:
        return aead.decrypt(sealed[1:13], sealed[13:], aad)
    except InvalidTag:
        raise TamperedCiphertext(f"value failed authentication ({aad.decode(errors='replace')})") from None


class BlindIndex:
    """Keyed HMAC tokens over normalised values, one HKDF-derived key per kind of token.

    Equal normalised values give equal tokens, so exact-match lookups need no
    decryption; without the root key a token reveals nothing of its value.
    """

    TOKEN_BYTES = 16

    def __init__(self, root: bytes) -> None:
        self._root = root
        self._keys: dict[str, bytes] = {}

    def _key(self, kind: str) -> bytes:
        key = self._keys.get(kind)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=b"register-blind-index-v1", info=kind.encode()
            ).derive(self._root)
            self._keys[kind] = key
        return key

    def token(self, kind: str, value: str) -> bytes:
        return hmac.new(self._key(kind), value.encode(), hashlib.sha256).digest()[: self.TOKEN_BYTES]


def derive_key(root: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"register-v1", info=purpose.encode()).derive(root)
