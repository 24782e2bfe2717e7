"""The audit log: every event commits with its change, the database refuses to change it,
and `register audit verify` names any event that was modified, deleted or reordered."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from register.cli import main
from register.config import Settings
from register.domain.record import Section
from register.nominals import service
from register.store import models as m
from register.store.store import Store
from tests.factories import OFFICER, add, create


def populate(store: Store, records: int = 3) -> list:
    ids = []
    for _ in range(records):
        with store.unit_of_work() as uow:
            nid = create(uow)
            add(uow, nid, Section.MARKS, {"kind": "scar", "location": "face", "description": "x"}, 1)
        with store.unit_of_work() as uow:
            service.read_record(uow, OFFICER, nid, purpose="enquiry OP-STAG-17")
        ids.append(nid)
    return ids


def tamper(store: Store, *statements: str) -> None:
    """What an attacker with direct database access could do, bypassing the append-only triggers."""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(
                text("SET LOCAL session_replication_role = replica")
            )  # superuser: triggers and FK checks off
            for s in statements:
                conn.execute(text(s))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for t in ("audit_event", "audit_seal"):
                for op in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {t}_no_{op}"))
            for s in statements:
                conn.execute(text(s))


def verify_cli(settings: Settings) -> tuple[int, str]:
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    return result.exit_code, result.output


def test_every_event_is_sealed_after_commit_and_the_chain_verifies(store: Store, settings: Settings) -> None:
    ids = populate(store)
    with store.session_factory() as s:
        events = s.execute(
            select(
                m.AuditEvent.tag,
                m.AuditEvent.purpose,
                m.AuditEvent.actor_user,
                m.AuditEvent.actor_agency,
                m.AuditEvent.actor_area,
                m.AuditEvent.nominal_id,
            )
        ).all()
    report = store.verify_audit()
    assert len(events) == 9 and report.ok and report.sealed == 9 and report.unsealed == 0
    reads = [e for e in events if e.tag == "nominal:record:read"]
    assert {(e.purpose, e.actor_user, e.actor_agency, e.actor_area) for e in reads} == {
        ("enquiry OP-STAG-17", "kent.om1", "police", "kent")
    }
    assert {e.nominal_id for e in reads} == set(ids)
    code, out = verify_cli(settings)
    assert code == 0 and "audit log intact" in out and "9 events sealed" in out


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET purpose = 'nothing to see'",
        "DELETE FROM audit_event",
        "UPDATE audit_seal SET digest = digest",
        "DELETE FROM audit_seal",
    ],
)
def test_the_database_refuses_to_change_the_audit_log(store: Store, statement: str) -> None:
    populate(store, 1)
    with pytest.raises(DatabaseError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.postgres_only
def test_postgres_refuses_truncate_of_the_audit_log(store: Store) -> None:
    populate(store, 1)
    with pytest.raises(DatabaseError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_seal, audit_event"))


def test_a_modified_event_is_named(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(store, "UPDATE audit_event SET purpose = 'routine' WHERE seq = 3")
    code, out = verify_cli(settings)
    assert code == 1 and "MODIFIED: event seq 3 (chain position 3)" in out and "TAMPERED" in out
    assert out.count("MODIFIED") == 1  # the events after it are not blamed


def test_a_deleted_event_is_named(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(store, "DELETE FROM audit_seal WHERE event_seq = 5", "DELETE FROM audit_event WHERE seq = 5")
    code, out = verify_cli(settings)
    assert code == 1 and "MISSING_SEAL: seals at positions 5..5 were deleted" in out


def test_an_event_deleted_but_its_seal_kept_is_named(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(store, "DELETE FROM audit_event WHERE seq = 4")
    code, out = verify_cli(settings)
    assert code == 1 and "DELETED: event seq 4 (chain position 4) was deleted" in out


def test_reordered_events_are_named(store: Store, settings: Settings) -> None:
    populate(store)
    # swap the content of two events (who read what, and when), keeping their sequence numbers
    with store.session_factory() as s:
        e2, e6 = (s.execute(select(m.AuditEvent).where(m.AuditEvent.seq == n)).scalar_one() for n in (2, 6))
        swap = {
            c: (getattr(e2, c), getattr(e6, c))
            for c in ("tag", "action", "nominal_id", "purpose", "occurred_at")
        }
    sets2 = ", ".join(f"{c} = :{c}_6" for c in swap)
    sets6 = ", ".join(f"{c} = :{c}_2" for c in swap)
    params = {f"{c}_2": v[0] for c, v in swap.items()} | {f"{c}_6": v[1] for c, v in swap.items()}
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(
            text(f"UPDATE audit_event SET {sets2} WHERE seq = 2"), {k: _bind(v) for k, v in params.items()}
        )
        conn.execute(
            text(f"UPDATE audit_event SET {sets6} WHERE seq = 6"), {k: _bind(v) for k, v in params.items()}
        )
    code, out = verify_cli(settings)
    assert code == 1 and "MODIFIED: event seq 2" in out and "MODIFIED: event seq 6" in out


def _bind(value):  # type: ignore[no-untyped-def]
    import uuid

    return value.hex if isinstance(value, uuid.UUID) else value


def test_reordered_seals_are_named(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(
        store,
        "UPDATE audit_seal SET event_seq = event_seq + 1000 WHERE position = 7",
        "UPDATE audit_seal SET event_seq = 7 WHERE position = 8",
        "UPDATE audit_seal SET event_seq = 8 WHERE position = 7",
    )
    code, out = verify_cli(settings)
    assert (
        code == 1
        and "REORDERED: event seq 8 (chain position 7)" in out
        and "REORDERED: event seq 7 (chain position 8)" in out
    )


@pytest.mark.postgres_only  # SQLite has one writer at a time: no transaction can commit around another
def test_events_committed_out_of_sequence_order_are_still_sealed(store: Store) -> None:
    """A transaction that took its sequence number early but committed late is sealed after the others."""
    store.seal_after_commit = False
    slow = store.session_factory()
    from register.audit.events import Action, AuditEntry
    from register.audit.repository import AuditLog

    AuditLog(slow, store.audit_keys.event, store.audit_keys.details).record(
        AuditEntry(Action.CONSULTATION, "nominal:record:read", OFFICER, purpose="slow")
    )
    slow.flush()  # takes the lower seq, not yet committed
    populate(store, 1)
    assert store.seal_audit() == 3
    slow.commit()
    slow.close()
    assert store.seal_audit() == 1
    report = store.verify_audit()
    assert report.ok and report.sealed == 4 and report.unsealed == 0


@pytest.mark.postgres_only
def test_concurrent_writers_never_queue_on_the_chain_and_every_event_is_sealed(store: Store) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            populate(store, 4)
        except BaseException as exc:  # noqa: BLE001 - any failure in a thread is collected; the test asserts none
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    store.seal_audit(full=True)
    report = store.verify_audit()
    assert report.ok and report.sealed == 4 * 4 * 3 and report.unsealed == 0


def test_a_free_text_reason_is_sealed_in_the_log_and_opened_only_with_the_audit_key(store: Store) -> None:
    """Ending an item with a reason: the reason is the officer's free text about a person, so the audit row
    holds it sealed (no clear text for someone reading the database or a dump), an auditor's read opens it,
    and a seal moved onto another event does not open there."""
    with store.unit_of_work() as uow:
        nid = create(uow)
        item_id, version = add(
            uow, nid, Section.MARKS, {"kind": "tattoo", "location": "left_forearm", "description": "x"}, 1
        )
    with store.unit_of_work() as uow:
        service.read_record(uow, OFFICER, nid, purpose="enquiry OP-STAG-17")
        service.end_item(
            uow, OFFICER, nid, item_id, "removed by laser in HMP Elmley", expected_version=version
        )
    with store.session_factory() as s:
        ended, other = (
            s.execute(select(m.AuditEvent).where(m.AuditEvent.tag == t).order_by(m.AuditEvent.seq.desc()))
            .scalars()
            .first()
            for t in ("nominal:marks:end", "nominal:record:read")
        )
    assert ended is not None and other is not None
    assert "laser" not in (ended.details or "") and '"sealed"' in (ended.details or "")
    with store.unit_of_work() as uow:
        opened = uow.audit.opened({"event_id": ended.event_id, "details": ended.details})
        assert '"reason": "removed by laser in HMP Elmley"' in opened["details"]
        moved = uow.audit.opened({"event_id": other.event_id, "details": ended.details})
        assert "laser" not in moved["details"] and "could not be opened" in moved["details"]


@pytest.mark.postgres_only
def test_an_event_committed_after_later_ones_were_sealed_is_sealed_by_the_next_pass(
    store: Store, settings: Settings
) -> None:
    """Sequence numbers are taken when events are written, not when they commit: the sealer looks behind its
    head for events that committed late (`chain.unsealed_after`), and seals them in order of commit."""
    store.seal_after_commit = False
    populate(store, 1)
    assert store.seal_audit() > 0
    with store.unit_of_work() as late:
        service.read_record(late, OFFICER, populate(store, 1)[0], purpose="enquiry OP-STAG-17")
        late.session.flush()
        (late_seq,) = late.session.execute(select(m.AuditEvent.seq).order_by(m.AuditEvent.seq.desc())).first()
        populate(store, 1)  # later events, committed first and sealed while this one is still open
        sealed_first = store.seal_audit()
        with store.session_factory() as s:
            assert s.execute(select(m.AuditSeal).where(m.AuditSeal.event_seq == late_seq)).first() is None
    assert sealed_first > 0 and store.seal_audit() == 1
    with store.session_factory() as s:
        (position,) = s.execute(select(m.AuditSeal.position).where(m.AuditSeal.event_seq == late_seq)).one()
        assert position == s.execute(select(func.max(m.AuditSeal.position))).scalar_one()
    code, out = verify_cli(settings)
    assert code == 0 and "audit log intact" in out and " 0 awaiting sealing" in out, out
