"""Personal data is encrypted at rest: not in the database file, not in a dump; misplaced, tampered or
wrongly keyed ciphertext never opens; key rotation and re-encryption keep every record readable."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from register.config import Settings
from register.crypto.envelope import TamperedCiphertext
from register.crypto.keys import KeyMismatch, KeyNotAvailable, LocalKeyring
from register.domain.actors import SystemActor
from register.domain.record import ChronologyEntry, Section
from register.keys import service as keys_service
from register.nominals import service
from register.store import models as m
from register.store.open import build_store
from register.store.store import Store
from tests.factories import OFFICER, add, create

# Values that must never appear in clear anywhere the database keeps data.
SECRETS = {
    "forename": "Thaddeus",
    "surname": "Vollenweider",
    "alias": "Pemberton-Quayle",
    "street": "Wickhambreaux Lane",
    "town": "Sandwichbury",
    "postcode": "CT3 1RX",
    "pnc": None,  # filled below with a valid PNC ID
    "ni": "JT482193C",
    "vrm": "WX71QZP",
    "phone": "07700900555",
    "email": "thad.v@example.net",
    "tattoo": "serpent coiled round an anchor",
    "narrative": "observed photographing the primary school gates",
    "victim": "Ms Imogen Fairweather-Blythe",
}


def _pnc() -> str:
    from register.domain.values import check_letter

    return f"2004/0123456{check_letter('040123456')}"


SECRETS["pnc"] = _pnc()


def write_secret_record(store: Store) -> uuid.UUID:
    with store.unit_of_work() as uow:
        nid = create(
            uow,
            identity={
                "forenames": SECRETS["forename"],
                "surname": SECRETS["surname"],
                "date_of_birth": "1975-06-30",
            },
        )
        v = 1
        for section, payload in [
            (Section.ALIASES, {"forenames": "Tad", "surname": SECRETS["alias"]}),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": [f"3 {SECRETS['street']}"],
                    "town": SECRETS["town"],
                    "postcode": SECRETS["postcode"],
                },
            ),
            (Section.IDENTIFIERS, {"kind": "pnc", "value": SECRETS["pnc"]}),
            (Section.IDENTIFIERS, {"kind": "ni", "value": SECRETS["ni"]}),
            (Section.VEHICLES, {"vrm": SECRETS["vrm"], "make": "Ford"}),
            (Section.CONTACTS, {"kind": "phone", "value": SECRETS["phone"]}),
            (Section.CONTACTS, {"kind": "email", "value": SECRETS["email"]}),
            (Section.MARKS, {"kind": "tattoo", "location": "left_forearm", "description": SECRETS["tattoo"]}),
            (Section.INTELLIGENCE, {"received_on": "2025-01-01", "text": SECRETS["narrative"]}),
            (
                Section.VICTIM_SAFETY,
                {
                    "kind": "non_contact",
                    "victim": SECRETS["victim"],
                    "details": "no contact",
                    "managed_by": ["probation"],
                },
            ),
        ]:
            _, v = add(uow, nid, section, payload, v)
        entry = ChronologyEntry(
            occurred_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC), kind="contact", summary=SECRETS["narrative"]
        )
        service.append_chronology(uow, OFFICER, nid, entry, expected_version=v)
    return nid


def assert_no_plaintext(blob: bytes) -> None:
    found = [
        name
        for name, value in SECRETS.items()
        for form in {value, value.upper(), value.lower()}
        if form.encode() in blob
    ]
    assert not found, f"plaintext found at rest: {found}"


def test_no_plaintext_in_the_database(
    store: Store, settings: Settings, request: pytest.FixtureRequest
) -> None:
    nid = write_secret_record(store)
    with store.unit_of_work() as uow:  # the values really are there, behind the keys
        record = uow.nominals.load(nid)
    assert (
        record.identity.surname == SECRETS["surname"]
        and record.items(Section.VICTIM_SAFETY)[0].data.victim == SECRETS["victim"]
    )  # type: ignore[attr-defined]

    if store.engine.dialect.name == "sqlite":
        store.dispose()
        path = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert len(raw) > 10_000
        assert_no_plaintext(raw)
    else:
        server = request.getfixturevalue("pg_server")
        dump = server.pg_dump(settings.resolved_database_url.rsplit("/", 1)[1])
        assert "COPY public.item" in dump and "COPY public.nominal" in dump
        assert_no_plaintext(dump.encode())


def test_a_ciphertext_moved_to_another_row_or_column_fails_to_decrypt(store: Store) -> None:
    nid = write_secret_record(store)
    with store.unit_of_work() as uow:
        items = uow.session.execute(
            select(m.Item.id, m.Item.payload_sealed).where(m.Item.nominal_id == nid).order_by(m.Item.id)
        ).all()
        a, b = items[0], items[1]
        # swap two rows' payloads (same record, same data key), and copy an item payload into the identity
        # column
        uow.session.execute(
            update(m.Item),
            [
                {"id": a.id, "payload_sealed": b.payload_sealed},
                {"id": b.id, "payload_sealed": a.payload_sealed},
            ],
        )
    # the reindex's read (ids as text, many values opened under one key) binds each value to its row too
    with store.unit_of_work() as uow:
        with pytest.raises(TamperedCiphertext) as err:
            uow.nominals.load_opened([nid], set(Section))
    assert "item|payload_sealed" in str(err.value)
    with store.unit_of_work() as uow:
        uow.session.execute(
            update(m.Nominal).where(m.Nominal.id == nid).values(identity_sealed=a.payload_sealed)
        )
    with store.unit_of_work() as uow:
        with pytest.raises(TamperedCiphertext) as err:
            uow.nominals.load(nid)
    assert "nominal|identity_sealed" in str(err.value)
    with store.unit_of_work() as uow:
        row = uow.nominals.item_row(nid, a.id)
        with pytest.raises(TamperedCiphertext):
            uow.nominals.open_item(row)


def test_a_tampered_ciphertext_is_detected(store: Store) -> None:
    nid = write_secret_record(store)
    with store.unit_of_work() as uow:
        sealed = uow.session.execute(
            select(m.ChronologyEntry.id, m.ChronologyEntry.payload_sealed).where(
                m.ChronologyEntry.nominal_id == nid
            )
        ).one()
        flipped = bytearray(sealed.payload_sealed)
        flipped[20] ^= 0x01
        uow.session.execute(
            update(m.ChronologyEntry)
            .where(m.ChronologyEntry.id == sealed.id)
            .values(payload_sealed=bytes(flipped))
        )
    with pytest.raises(TamperedCiphertext), store.unit_of_work() as uow:
        uow.nominals.load(nid)


def snapshot(store: Store) -> tuple[int, ...]:
    with store.session_factory() as s:
        return tuple(
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (m.Nominal, m.Item, m.AuditEvent, m.DataKey, m.KeyCheck)
        )


def test_a_wrong_key_is_refused_cleanly_and_changes_nothing(store: Store, settings: Settings) -> None:
    write_secret_record(store)
    before = snapshot(store)
    keyring_path = settings.resolved_key_dir / LocalKeyring.FILE
    good = keyring_path.read_text()
    doc = json.loads(good)
    doc["keys"]["1"]["key"] = base64.b64encode(os.urandom(32)).decode()  # same version, different key
    keyring_path.write_text(json.dumps(doc))
    with pytest.raises(KeyMismatch, match="kek:1 key .* is not the key this database was written with"):
        build_store(settings)
    # a missing keyring is a clear error too, in production mode (no generation)
    keyring_path.unlink()
    with pytest.raises(KeyNotAvailable, match="not found"):
        build_store(settings.model_copy(update={"environment": "production"}))
    keyring_path.write_text(good)
    assert snapshot(store) == before
    build_store(settings).dispose()  # the right key works again


def test_unwrapping_under_the_wrong_key_is_a_clear_error(store: Store, settings: Settings) -> None:
    nid = write_secret_record(store)
    with store.unit_of_work() as uow:  # corrupt one wrapped data key
        key = uow.session.execute(select(m.DataKey).where(m.DataKey.nominal_id == nid)).scalar_one()
        uow.session.execute(
            update(m.DataKey)
            .where(m.DataKey.id == key.id)
            .values(wrapped=key.wrapped[:-1] + bytes([key.wrapped[-1] ^ 1]))
        )
    with pytest.raises(KeyMismatch, match="does not unwrap"), store.unit_of_work() as uow:
        uow.nominals.load(nid)


def test_rotation_then_retirement_leaves_every_record_readable(store: Store, settings: Settings) -> None:
    ids = [write_secret_record(store) for _ in range(3)]
    version, rewrapped = keys_service.rotate(store, SystemActor("test"))
    assert (version, rewrapped) == ("2", 3)
    keys_service.retire(store, SystemActor("test"), "1")
    assert keys_service.key_usage(store) == {"2": 3}
    fresh = build_store(settings)  # a new process reading the rotated keyring
    try:
        with fresh.unit_of_work() as uow:
            assert {uow.nominals.load(i).identity.surname for i in ids} == {SECRETS["surname"]}
        with pytest.raises(ValueError, match="active"):
            keys_service.retire(fresh, SystemActor("test"), "2")
    finally:
        fresh.dispose()


def test_retiring_a_version_still_in_use_is_refused(store: Store) -> None:
    write_secret_record(store)
    store.keys.keyring.add_version()
    with pytest.raises(ValueError, match="still wrapped under version 1"):
        keys_service.retire(store, SystemActor("test"), "1")


def test_reencryption_reseals_everything_under_a_new_data_key(store: Store) -> None:
    nid = write_secret_record(store)
    with store.session_factory() as s:
        old_key = s.execute(select(m.Nominal.data_key_id).where(m.Nominal.id == nid)).scalar_one()
        old_payloads = set(s.scalars(select(m.Item.payload_sealed).where(m.Item.nominal_id == nid)))
    keys_service.reencrypt(store, SystemActor("test"), [nid])
    with store.unit_of_work() as uow:
        record = uow.nominals.load(nid)
        keys_now = set(uow.session.scalars(select(m.DataKey.id).where(m.DataKey.nominal_id == nid)))
        payloads = set(uow.session.scalars(select(m.Item.payload_sealed).where(m.Item.nominal_id == nid)))
        key_ids = set(uow.session.scalars(select(m.Item.data_key_id).where(m.Item.nominal_id == nid)))
        tags = [e["tag"] for e in uow.audit.for_record(nid)]
    assert record.identity.forenames == SECRETS["forename"] and len(record.chronology) == 1
    assert old_key not in keys_now and len(keys_now) == 1 and key_ids == keys_now
    assert not payloads & old_payloads
    assert tags[-1] == "keys:record:reencrypt"


def test_the_database_holds_no_key_material(store: Store, settings: Settings) -> None:
    write_secret_record(store)
    with store.session_factory() as s:
        blobs = [bytes(b) for b in s.scalars(text("SELECT wrapped FROM data_key"))] + [
            bytes(b) for b in s.scalars(text("SELECT check_value FROM key_check"))
        ]
    keyring = store.keys.keyring
    materials = [keyring.key_for_check(v) for v in keyring.versions()] + [
        store.keys.blind_root.material,
        store.keys.audit_root.material,
    ]
    assert not any(k in b for k in materials for b in blobs)


def test_reencryption_reseals_transfer_details_and_keeps_keys_that_still_seal_something(store: Store) -> None:
    from register.domain.record import Mark
    from register.transfers import service as transfers
    from register.transfers.schemas import TransferRequest

    with store.unit_of_work() as uow:
        nid = create(uow)
        transfers.start(
            uow,
            OFFICER,
            nid,
            TransferRequest(to_area="essex", reason="moved to Chelmsford"),
            expected_version=1,
        )
        other = create(uow)
        # A row of another record sealed under this record's key (what an unmerge leaves behind).
        key = uow.nominals.header_row(nid).data_key_id
        shared = uuid.uuid4()
        uow.nominals.add_item(
            other,
            key,
            shared,
            Mark(kind="scar", location="face", description="old scar"),
            OFFICER,
            dt.datetime.now(dt.UTC),
        )
    keys_service.reencrypt(store, SystemActor("test"), [nid])
    with store.unit_of_work() as uow:
        row = uow.session.get(
            m.Transfer, uow.session.scalars(select(m.Transfer.id).where(m.Transfer.nominal_id == nid)).one()
        )
        assert row.data_key_id == uow.nominals.header_row(nid).data_key_id
        assert b"Chelmsford" in uow.cipher.open(
            row.data_key_id, "transfer", "details_sealed", row.id, row.details_sealed
        )
        assert (
            uow.nominals.load(other).items(Section.MARKS)[0].data.description == "old scar"
        )  # its key was kept


def test_reencryption_reseals_merge_and_dismissal_reasons(store: Store) -> None:
    from register.merges import service as merges
    from register.merges.repository import dismissal_row_id
    from register.merges.schemas import Dismissal
    from tests.factories import SUPERVISOR

    with store.unit_of_work() as uow:
        a, b, c = create(uow), create(uow), create(uow)
        done = merges.merge(uow, SUPERVISOR, a, b, expected_version=1, merged_version=1)
        merges.unmerge(uow, SUPERVISOR, a, done.id, "two brothers", expected_version=done.version)
        merges.dismiss(
            uow, SUPERVISOR, Dismissal(first_id=max(a, c), second_id=min(a, c), reason="different fathers")
        )
    keys_service.reencrypt(store, SystemActor("test"), [a])
    with store.unit_of_work() as uow:
        key = uow.nominals.header_row(a).data_key_id
        assert {r.data_key_id for r in uow.session.scalars(select(m.Merge))} == {key}
        [history] = merges.merges_of(uow, SUPERVISOR, a, purpose=None)
        assert history.unmerge_reason == "two brothers"
        # The unmerge also recorded a dismissal of (a, b): pick the pair (a, c) by both ids, whatever order
        # ids sort in.
        row = uow.session.scalars(
            select(m.DuplicateDismissal).where(
                m.DuplicateDismissal.first_id == min(a, c), m.DuplicateDismissal.second_id == max(a, c)
            )
        ).one()
        assert (
            uow.cipher.open(
                row.data_key_id,
                "duplicate_dismissal",
                "reason_sealed",
                dismissal_row_id(a, c),
                row.reason_sealed,
            )
            == b"different fathers"
        )
