"""The encrypted store, on SQLite and on the real PostgreSQL server: what is written is what is read,
changes are versioned and atomic, and exact-match values are findable without decryption."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from register.config import Settings
from register.domain.enums import NominalStatus
from register.domain.errors import ConcurrencyConflict, NotFound, RuleViolation
from register.domain.record import ChronologyEntry, Identity, Section
from register.nominals import service
from register.store import models as m
from register.store.store import Store
from tests.factories import OFFICER, add, create

VISIT = ChronologyEntry(
    occurred_at=dt.datetime(2025, 9, 12, 14, 30, tzinfo=dt.UTC), kind="home_visit", summary="verified address"
)


def count(store: Store, model: type) -> int:
    with store.session_factory() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_whole_record_reads_back_as_written(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        _, v = add(
            uow,
            nid,
            Section.ADDRESSES,
            {
                "kind": "home",
                "lines": ["14 Tonbridge Road"],
                "postcode": "me16 8rp",
                "date_from": "2021-06-01",
            },
            1,
        )
        _, v = add(
            uow,
            nid,
            Section.MARKS,
            {"kind": "tattoo", "location": "left_forearm", "description": "dragon"},
            v,
        )
        _, v = add(
            uow,
            nid,
            Section.RISK_ASSESSMENTS,
            {
                "tool": "oasys",
                "assessed_on": "2025-01-01",
                "assessor": "PO Shah",
                "rosh": {"children": "high", "public": "medium"},
                "next_review_on": "2025-07-01",
            },
            v,
        )
        _, v = service.append_chronology(uow, OFFICER, nid, VISIT, expected_version=v)
    with store.unit_of_work() as uow:
        record = service.read_record(uow, OFFICER, nid, purpose="test")
    assert record.version == v == 5
    assert record.identity.surname == "Zabrowski"
    assert record.items(Section.ADDRESSES)[0].data.postcode == "ME16 8RP"  # type: ignore[attr-defined]
    assert record.items(Section.MARKS)[0].data.description == "dragon"  # type: ignore[attr-defined]
    assert (
        record.items(Section.MARKS)[0].recorded_by == "kent.om1"
        and record.items(Section.MARKS)[0].recorded_agency == "police"
    )
    assert record.chronology[0].data.summary == "verified address"
    # plain operational metadata is queryable without decryption
    with store.session_factory() as s:
        row = s.execute(
            select(m.Item.kind, m.Item.status, m.Item.due_on).where(m.Item.section == "risk_assessments")
        ).one()
    assert tuple(row) == ("oasys", "high", dt.date(2025, 7, 1))


def test_a_whole_record_is_read_in_a_fixed_number_of_queries(store: Store) -> None:
    from sqlalchemy import event

    with store.unit_of_work() as uow:
        nid = create(uow)
        v = 1
        for i in range(15):
            _, v = add(uow, nid, Section.CONTACTS, {"kind": "phone", "value": f"0770090{i:04d}"}, v)
            _, v = service.append_chronology(uow, OFFICER, nid, VISIT, expected_version=v)
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        with store.unit_of_work() as uow:
            record = uow.nominals.load(nid)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert len(record.items(Section.CONTACTS)) == 15 and len(record.chronology) == 15
    assert len(statements) == 3, statements  # nominal with its data key, items, chronology: no query per item


def test_the_kept_read_statements_give_each_record_and_each_agency_its_own_rows(store: Store) -> None:
    """A record's read runs statements built once per shape and kept (`records._item_rows`): a record or an
    agency left in one as a constant would show every later read the first one's rows."""
    from register.domain.enums import Agency

    with store.unit_of_work() as uow:
        first, second = create(uow), create(uow)
        _, v = add(uow, first, Section.CONTACTS, {"kind": "phone", "value": "07700900001"}, 1)
        add(
            uow,
            first,
            Section.INTELLIGENCE,
            {"received_on": "2025-08-01", "text": "police only", "audience": ["police"]},
            v,
        )
        _, v = add(uow, second, Section.CONTACTS, {"kind": "phone", "value": "07700900002"}, 1)
        service.append_chronology(uow, OFFICER, second, VISIT, expected_version=v)
    some = {Section.CONTACTS, Section.INTELLIGENCE}
    for _ in range(2):  # the second pass runs the statements the first one kept
        for agency in (Agency.POLICE, Agency.PROBATION, None):
            with store.unit_of_work() as uow:
                one, other = (uow.nominals.load(n, audience=agency) for n in (first, second))
                part = uow.nominals.load(first, sections=some, chronology=False, audience=agency)
            assert [i.data.value for i in one.items(Section.CONTACTS)] == ["07700900001"]  # type: ignore[attr-defined]
            assert [i.data.value for i in other.items(Section.CONTACTS)] == ["07700900002"]  # type: ignore[attr-defined]
            hidden = agency is Agency.PROBATION
            assert (
                len(one.items(Section.INTELLIGENCE)) == len(part.items(Section.INTELLIGENCE)) == (not hidden)
            )
            assert (len(one.chronology), len(other.chronology), len(part.chronology)) == (0, 1, 0)


def test_stale_version_is_refused_and_nothing_is_written(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        add(uow, nid, Section.MARKS, {"kind": "scar", "location": "face", "description": "over left eye"}, 1)
    before = (count(store, m.Item), count(store, m.AuditEvent), count(store, m.Outbox))
    with pytest.raises(ConcurrencyConflict) as err, store.unit_of_work() as uow:
        add(uow, nid, Section.MARKS, {"kind": "scar", "location": "face", "description": "second"}, 1)
    assert err.value.rule == "version_stale"
    assert (count(store, m.Item), count(store, m.AuditEvent), count(store, m.Outbox)) == before


def test_a_failure_midway_rolls_back_the_change_its_audit_and_its_outbox(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
    before = (
        count(store, m.Item),
        count(store, m.AuditEvent),
        count(store, m.Outbox),
        count(store, m.BlindToken),
    )
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        add(uow, nid, Section.IDENTIFIERS, {"kind": "ni", "value": "AB123456C"}, 1)
        raise RuntimeError("crash before commit")
    assert (
        count(store, m.Item),
        count(store, m.AuditEvent),
        count(store, m.Outbox),
        count(store, m.BlindToken),
    ) == before
    with store.session_factory() as s:
        assert s.get(m.Nominal, nid).version == 1


@pytest.mark.postgres_only
def test_two_concurrent_updates_with_the_same_version_exactly_one_wins(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(text: str) -> None:
        try:
            with store.unit_of_work() as uow:
                uow.nominals.header_row(nid)
                barrier.wait()
                add(uow, nid, Section.MARKS, {"kind": "mark", "location": "neck", "description": text}, 1)
            outcomes.append("ok")
        except ConcurrencyConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    with store.unit_of_work() as uow:
        record = uow.nominals.load(nid)
    assert record.version == 2 and len(record.items(Section.MARKS)) == 1


def test_correct_and_end_items_are_audited_as_alterations(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        item, v = add(uow, nid, Section.VEHICLES, {"vrm": "GK19XBW", "colour": "blue"}, 1)
    from register.domain.rules import parse_item

    with store.unit_of_work() as uow:
        v = service.correct_item(
            uow,
            OFFICER,
            nid,
            item,
            parse_item(Section.VEHICLES, {"vrm": "GK19XBV", "colour": "blue"}),
            expected_version=v,
        )
        v = service.end_item(uow, OFFICER, nid, item, "vehicle sold", expected_version=v)
    with store.unit_of_work() as uow:
        record = uow.nominals.load(nid)
        events = uow.audit.for_record(nid)
        vrm_hits = (
            uow.session.execute(
                select(m.BlindToken.item_id).where(
                    m.BlindToken.kind == "vrm",
                    m.BlindToken.token.in_(
                        [store.blind.token("vrm", "GK19XBV"), store.blind.token("vrm", "GK19XBW")]
                    ),
                )
            )
            .scalars()
            .all()
        )
    stored = record.items(Section.VEHICLES)[0]
    assert stored.data.vrm == "GK19XBV" and stored.ended_reason == "vehicle sold"  # type: ignore[attr-defined]
    assert [e["tag"] for e in events] == [
        "nominal:record:create",
        "nominal:vehicles:add",
        "nominal:vehicles:correct",
        "nominal:vehicles:end",
    ]
    assert (
        '"fields": ["vrm"]' in events[2]["details"] and "GK19" not in events[2]["details"]
    )  # names the field, never the value
    assert vrm_hits == [item]  # the old mark's token went with the correction
    with pytest.raises(RuleViolation), store.unit_of_work() as uow:
        service.end_item(uow, OFFICER, nid, item, "again", expected_version=v)


def test_chronology_is_append_only_and_corrections_reference_the_original(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        first, v = service.append_chronology(uow, OFFICER, nid, VISIT, expected_version=1)
        fix = ChronologyEntry(
            occurred_at=VISIT.occurred_at, kind="amendment", summary="visit was at 15:30", amends=first
        )
        _, v = service.append_chronology(uow, OFFICER, nid, fix, expected_version=v)
    with store.unit_of_work() as uow:
        timeline = uow.nominals.load(nid).chronology
    assert [e.data.summary for e in timeline] == ["verified address", "visit was at 15:30"]
    assert timeline[1].data.amends == first
    bogus = ChronologyEntry(occurred_at=VISIT.occurred_at, kind="amendment", summary="x", amends=uuid.uuid4())
    with pytest.raises(NotFound) as err, store.unit_of_work() as uow:
        service.append_chronology(uow, OFFICER, nid, bogus, expected_version=v)
    assert err.value.field == "amends"


def test_archived_records_are_read_only(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        uow.session.execute(
            update(m.Nominal).where(m.Nominal.id == nid).values(status=NominalStatus.ARCHIVED.value)
        )
    with pytest.raises(RuleViolation) as err, store.unit_of_work() as uow:
        add(uow, nid, Section.MARKS, {"kind": "scar", "location": "face", "description": "x"}, 1)
    assert err.value.rule == "record_read_only"


def test_level_changes_keep_history_and_move_the_current_level(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        _, v = add(
            uow,
            nid,
            Section.MAPPA_LEVELS,
            {"category": 1, "level": 2, "effective_from": "2025-01-01", "rationale": "new concerns"},
            1,
        )
        _, v = add(
            uow,
            nid,
            Section.MAPPA_LEVELS,
            {"category": 1, "level": 1, "effective_from": "2025-06-01", "rationale": "stable"},
            v,
        )
    with store.unit_of_work() as uow:
        record = uow.nominals.load(nid)
    assert record.header.mappa_level == 1
    assert [i.data.level for i in record.items(Section.MAPPA_LEVELS)] == [2, 1]  # type: ignore[attr-defined]
    with pytest.raises(RuleViolation), store.unit_of_work() as uow:
        add(
            uow,
            nid,
            Section.MAPPA_LEVELS,
            {"category": 2, "level": 1, "effective_from": "2025-07-01", "rationale": "x"},
            v,
        )


def test_risk_plan_versions_number_themselves(store: Store) -> None:
    plan = {
        "agreed_on": "2025-01-01",
        "review_on": "2025-07-01",
        "actions": [{"pillar": "supervision", "description": "weekly", "owner": "probation"}],
    }
    with store.unit_of_work() as uow:
        nid = create(uow)
        _, v = add(uow, nid, Section.RISK_PLANS, plan, 1)
        _, v = add(
            uow, nid, Section.RISK_PLANS, {**plan, "agreed_on": "2025-07-01", "review_on": "2026-01-01"}, v
        )
        uow.checkpoint()
        record = uow.nominals.load(nid)
    assert [i.data.version for i in record.items(Section.RISK_PLANS)] == [1, 2]  # type: ignore[attr-defined]


def test_identifiers_and_names_are_found_by_blind_token_in_any_spelling(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow, identity={"forenames": "Zoë", "surname": "O'Brien", "date_of_birth": "1980-02-29"})
        add(uow, nid, Section.IDENTIFIERS, {"kind": "ni", "value": "ab 12 34 56 c"}, 1)
        other = create(uow)

    def owners(kind: str, value: str) -> set[uuid.UUID]:
        with store.session_factory() as s:
            return set(
                s.scalars(
                    select(m.BlindToken.nominal_id).where(
                        m.BlindToken.kind == kind, m.BlindToken.token == store.blind.token(kind, value)
                    )
                )
            )

    assert owners("id_ni", "AB123456C") == {nid}
    assert owners("name", "zoe") == {nid} and owners("surname", "obrien") == {nid}
    assert owners("dob_month_day", "02-29") == {nid}
    assert owners("name", "quentin") == {other}


def test_identity_correction_replaces_its_tokens(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
        v = service.correct_identity(
            uow, OFFICER, nid, Identity(forenames="Quentin", surname="Zabrowskii"), expected_version=1
        )
    with store.session_factory() as s:
        kinds = set(
            s.scalars(
                select(m.BlindToken.token).where(
                    m.BlindToken.nominal_id == nid, m.BlindToken.kind == "surname"
                )
            )
        )
    assert kinds == {store.blind.token("surname", "zabrowskii")} and v == 2


def test_associate_links_must_point_at_another_existing_record(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid, other = create(uow), create(uow)
        _, v = add(
            uow, nid, Section.ASSOCIATES, {"relationship": "co_offender", "linked_nominal_id": str(other)}, 1
        )
    with pytest.raises(NotFound) as err, store.unit_of_work() as uow:
        add(
            uow,
            nid,
            Section.ASSOCIATES,
            {"relationship": "co_offender", "linked_nominal_id": str(uuid.uuid4())},
            v,
        )
    assert (err.value.rule, err.value.field) == ("linked_nominal_not_found", "linked_nominal_id")
    with pytest.raises(RuleViolation) as err2, store.unit_of_work() as uow:
        add(uow, nid, Section.ASSOCIATES, {"relationship": "co_offender", "linked_nominal_id": str(nid)}, v)
    assert err2.value.rule == "associate_self_link"
    # The plain link column lets analysts chart associations without decrypting
    with store.session_factory() as s:
        assert s.execute(select(m.Item.ref).where(m.Item.section == "associates")).scalars().all() == [
            str(other)
        ]


def test_notification_dates_follow_the_record(store: Store) -> None:
    def stored(nid: uuid.UUID) -> tuple:  # type: ignore[type-arg]
        with store.session_factory() as s:
            row = s.get(m.Nominal, nid)
            return (
                row.notification_subject,
                row.notification_indefinite,
                row.notification_ends_on,
                row.notification_due_on,
            )

    with store.unit_of_work() as uow:
        nid = create(uow, identity={"forenames": "A", "surname": "B", "date_of_birth": "1980-05-05"})
    assert stored(nid) == (False, None, None, None)
    with store.unit_of_work() as uow:
        offence, v = add(
            uow,
            nid,
            Section.OFFENCES,
            {
                "offence": "Sexual assault",
                "conviction_date": "2020-01-20",
                "sexual": True,
                "disposal": {"kind": "imprisonment", "custody_months": 12},
            },
            1,
        )
        _, v = add(
            uow,
            nid,
            Section.ADDRESSES,
            {"kind": "home", "lines": ["1 High St"], "postcode": "ME16 8RP", "date_from": "2020-06-01"},
            v,
        )
    assert stored(nid) == (
        True,
        False,
        dt.date(2030, 1, 20),
        dt.date(2020, 1, 22),
    )  # 10 years; initial notification within the 3 days beginning with the conviction
    with store.unit_of_work() as uow:
        entry = ChronologyEntry(
            occurred_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
            kind="notification",
            summary="annual notification",
        )
        _, v = service.append_chronology(uow, OFFICER, nid, entry, expected_version=v)
        from register.domain.rules import parse_item

        v = service.correct_item(
            uow,
            OFFICER,
            nid,
            offence,
            parse_item(
                Section.OFFENCES,
                {
                    "offence": "Sexual assault",
                    "conviction_date": "2020-01-20",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 30},
                },
            ),
            expected_version=v,
        )
    assert stored(nid) == (
        True,
        True,
        None,
        dt.date(2026, 3, 1),
    )  # now indefinite; next annual a year after the last
    with store.unit_of_work() as uow:
        record = service.read_record(uow, OFFICER, nid, purpose="test")
    from register.usecase.views import RecordOut

    out = RecordOut.of(record).notification
    assert out.indefinite and out.review_from == dt.date(
        2040, 3, 1
    )  # 15 years from the first recorded notification
    assert out.explanation.startswith("indefinite: imprisonment of 30 months (Sexual assault, 2020-01-20)")
    with store.unit_of_work() as uow:  # the sweep recomputes the same thing from scratch
        uow.session.execute(
            update(m.Nominal)
            .where(m.Nominal.id == nid)
            .values(notification_subject=False, notification_due_on=None)
        )
    assert service.refresh_notifications(store) == 1
    assert stored(nid) == (True, True, None, dt.date(2026, 3, 1))


@pytest.mark.postgres_only
def test_the_register_sessions_run_without_the_jit_and_with_their_timeouts(store: Store) -> None:
    """Decision 54: PostgreSQL's JIT compiled the register's statements (many small lookups) for longer than
    they ran, so every session of the register switches it off; a runaway statement or a lock wait still
    ends."""
    with store.session_factory() as s:
        settings = dict(
            s.execute(
                text(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('jit', 'statement_timeout', 'lock_timeout')"
                )
            ).all()
        )
    assert settings["jit"] == "off"
    assert int(settings["statement_timeout"]) > 0
    assert int(settings["lock_timeout"]) == 10_000


@pytest.mark.postgres_only
def test_commands_through_the_whole_register_get_their_own_statement_timeout(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decision 55: at 1,000,000 people a set-based sweep statement (every duplicate pair, a quality rule over
    every active record) runs longer than a request may, so the commands that work through the whole register
    open their store with the commands' timeout; everything else, and above all `register serve` (the API and
    the pages answer through its store), keeps the requests'."""
    import uvicorn
    from click.testing import CliRunner

    from register.cli import base, main
    from register.cli.base import open_store

    def timeouts(store: Store) -> tuple[str, str]:
        with store.session_factory() as s:
            statement, lock = (
                s.execute(text(f"SHOW {name}")).scalar_one() for name in ("statement_timeout", "lock_timeout")
            )
            return statement, lock

    assert (
        settings.db_command_statement_timeout_ms == 3_600_000 and settings.db_statement_timeout_ms == 30_000
    )
    with open_store(settings) as store:
        assert timeouts(store) == ("30s", "10s")
    with open_store(settings, whole_register=True) as store:
        assert timeouts(store) == ("1h", "10s")

    served: list[tuple[str, str]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(timeouts(app.state.store)))
    opened: list[int] = []
    real_build = base.build_store
    monkeypatch.setattr(
        base, "build_store", lambda s: opened.append(s.db_statement_timeout_ms) or real_build(s)
    )
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }
    for args in (["serve"], ["quality", "--all-areas"], ["stats", "--all-areas", "--year", "2025"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
    assert served == [("30s", "10s")]
    assert opened == [30_000, 3_600_000, 3_600_000]
