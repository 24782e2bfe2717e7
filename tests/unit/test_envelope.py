"""Sealing: round trips, and every kind of misplacement or tampering is detected."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from register.crypto.envelope import (
    BlindIndex,
    TamperedCiphertext,
    associated_data,
    new_data_key,
    open_sealed,
    seal,
)

KEY = new_data_key()


@given(st.binary(max_size=4096), st.uuids())
def test_round_trip(plaintext: bytes, row: uuid.UUID) -> None:
    aad = associated_data("item", "payload_sealed", row)
    sealed = seal(KEY, plaintext, aad)
    assert open_sealed(KEY, sealed, aad) == plaintext


@given(st.binary(min_size=1, max_size=256))
def test_fresh_nonce_each_time(plaintext: bytes) -> None:
    aad = associated_data("item", "payload_sealed", "r")
    assert seal(KEY, plaintext, aad) != seal(KEY, plaintext, aad)


def test_a_value_moved_to_another_row_column_or_table_fails_to_open() -> None:
    row, other = uuid.uuid4(), uuid.uuid4()
    sealed = seal(KEY, b"14 Tonbridge Road", associated_data("item", "payload_sealed", row))
    for table, column, target in [
        ("item", "payload_sealed", other),
        ("nominal", "identity_sealed", row),
        ("chronology_entry", "payload_sealed", row),
    ]:
        with pytest.raises(TamperedCiphertext):
            open_sealed(KEY, sealed, associated_data(table, column, target))


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255))
def test_any_flipped_bit_is_detected(position: int, flip: int) -> None:
    aad = associated_data("item", "payload_sealed", "r")
    sealed = bytearray(seal(KEY, b"narrative text of a home visit", aad))
    sealed[position % len(sealed)] ^= flip
    with pytest.raises(TamperedCiphertext):
        open_sealed(KEY, bytes(sealed), aad)


def test_wrong_key_fails() -> None:
    aad = associated_data("item", "payload_sealed", "r")
    with pytest.raises(TamperedCiphertext):
        open_sealed(new_data_key(), seal(KEY, b"x", aad), aad)


def test_blind_tokens_are_deterministic_keyed_and_separated_by_kind() -> None:
    root = b"\x01" * 32
    a, b = BlindIndex(root), BlindIndex(root)
    assert a.token("name", "hartley") == b.token("name", "hartley")
    assert a.token("name", "hartley") != a.token("surname", "hartley")
    assert a.token("name", "hartley") != BlindIndex(b"\x02" * 32).token("name", "hartley")
    assert len(a.token("vrm", "GK19XBW")) == 16
