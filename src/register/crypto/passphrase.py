"""Wrapping a secret for an operator under a passphrase: scrypt, then AES-256-GCM (the backup's key bundle).

    doc = wrap(plaintext, passphrase, bound_to)      # a JSON-able dict; nothing in it is secret
    plaintext = unwrap(doc, passphrase, bound_to)

scrypt (N=2^17, r=8, p=1: about half a second and 128 MiB per guess) derives 64 bytes from the passphrase and
a fresh 16-byte salt: the first half seals, the second half makes a check value. The check value tells a wrong
passphrase (`WrongPassphrase`) from a wrapped secret or binding that was altered (`WrappedSecretAltered`): the
associated data `bound_to` ties the wrapped secret to what it was made with (the backup's manifest), so a
manifest edited after the backup does not open. The check value lets nobody guess faster than the AEAD
itself would: each guess still costs one scrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .keys import KeyProblem

FORMAT = "register-passphrase-wrap"
MIN_LENGTH = 12
_CHECK = b"register-passphrase-check"


class WrongPassphrase(KeyProblem):
    pass


class WrappedSecretAltered(KeyProblem):
    pass


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    raw = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return raw[:32], raw[32:]


def _check_value(check_key: bytes) -> str:
    return hmac.new(check_key, _CHECK, hashlib.sha256).hexdigest()


def check_strength(passphrase: str) -> None:
    if len(passphrase) < MIN_LENGTH:
        raise KeyProblem(
            f"the backup passphrase must be at least {MIN_LENGTH} characters (a few random words from a "
            "password manager): nothing was written"
        )


def wrap(
    plaintext: bytes, passphrase: str, bound_to: bytes, *, n: int = 2**17, r: int = 8, p: int = 1
) -> dict[str, Any]:
    check_strength(passphrase)
    salt = secrets.token_bytes(16)
    key, check_key = _derive(passphrase, salt, n, r, p)
    nonce = secrets.token_bytes(12)
    return {
        "format": FORMAT,
        "v": 1,
        "kdf": {"name": "scrypt", "n": n, "r": r, "p": p, "salt": base64.b64encode(salt).decode()},
        "cipher": "AES-256-GCM",
        "check": _check_value(check_key),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(AESGCM(key).encrypt(nonce, plaintext, bound_to)).decode(),
    }


def unwrap(doc: dict[str, Any], passphrase: str, bound_to: bytes) -> bytes:
    try:
        if doc.get("format") != FORMAT or doc.get("v") != 1 or doc["kdf"]["name"] != "scrypt":
            raise ValueError("not a passphrase-wrapped secret of a version this register reads")
        kdf = doc["kdf"]
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        if not (2**14 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4):
            raise ValueError("its scrypt parameters are out of range")
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(doc["nonce"], validate=True)
        ciphertext = base64.b64decode(doc["ciphertext"], validate=True)
        check = str(doc["check"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WrappedSecretAltered(f"the wrapped key bundle is malformed: {exc}") from None
    key, check_key = _derive(passphrase, salt, n, r, p)
    if not hmac.compare_digest(_check_value(check_key), check):
        raise WrongPassphrase(
            "wrong passphrase: the key bundle does not open with it (nothing was written); give the "
            "passphrase the backup was made with"
        )
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, bound_to)
    except InvalidTag:
        raise WrappedSecretAltered(
            "the key bundle opens with this passphrase but does not match the manifest: the manifest or the "
            "key bundle was altered, or they come from different backups (nothing was written)"
        ) from None
