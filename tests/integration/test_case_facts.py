"""Each record's caseload facts are kept by the writes (`case_facts`, decision 62), and what the caseload and
the supervisor's workload count as due follows every change at once: a visit recorded, an assessment added or
ended. Whatever wrote them (a use case, the generator, the migration), the kept facts equal those worked out
from the items and entries now; `register facts-check` finds and repairs any that do not. (Every test's
teardown checks that last point too, whatever the test wrote: tests/conftest.py.)"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, update

from register.caseload.repository import CaseloadRepository
from register.cli import main
from register.config import Settings
from register.domain.actors import SystemActor
from register.domain.caseload import CaseFacts
from register.domain.enums import Agency
from register.domain.record import ChronologyEntry, Section
from register.nominals import service as nominals
from register.store import case_facts
from register.store import models as m
from register.store.open import alembic_config
from register.store.store import Store
from register.synthetic import service as synthetic
from tests.factories import OFFICER, add, create

TODAY = dt.date(2026, 11, 30)
MANAGER = {"agency": "police", "name": "DC Test", "user_id": OFFICER.user_id, "date_from": "2026-01-05"}


def assessment(on: str, review: str, rosh: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "tool": "oasys",
        "assessed_on": on,
        "assessor": "PO Shah",
        "rosh": rosh or {"children": "high", "public": "medium"},
        "next_review_on": review,
    }


def kept(store: Store, nominal_id: uuid.UUID) -> dict[str, object]:
    with store.session_factory() as s:
        row = s.execute(
            select(m.CaseFactsRow.__table__).where(m.CaseFactsRow.nominal_id == nominal_id)
        ).first()
    return {} if row is None else {k: v for k, v in row._mapping.items() if k != "nominal_id"}


def managed_by_officer(store: Store) -> uuid.UUID:
    """A record the factories' officer manages, with no assessment, plan, meeting or visit yet."""
    with store.unit_of_work() as uow:
        nominal_id = create(uow)
        add(uow, nominal_id, Section.OFFENDER_MANAGERS, MANAGER, 1)
    return nominal_id


def version(store: Store, nominal_id: uuid.UUID) -> int:
    with store.session_factory() as s:
        return int(s.scalar(select(m.Nominal.version).where(m.Nominal.id == nominal_id)) or 0)


def facts_seen(store: Store, nominal_id: uuid.UUID, agency: Agency = Agency.POLICE) -> CaseFacts:
    with store.session_factory() as s:
        (case,) = CaseloadRepository(s).cases(
            area=None, user_id=None, agency=agency, today=TODAY, nominal_id=nominal_id
        )
    return case.facts


def test_every_change_to_a_record_moves_its_kept_facts_at_once(store: Store) -> None:
    nominal_id = managed_by_officer(store)
    assert kept(store, nominal_id)["assessed_on"] is None
    assert (kept(store, nominal_id)["owner"], kept(store, nominal_id)["risk_level"]) == (
        OFFICER.user_id,
        None,
    )

    with store.unit_of_work() as uow:
        older, v = add(
            uow,
            nominal_id,
            Section.RISK_ASSESSMENTS,
            assessment("2026-03-01", "2026-09-01", {"public": "very_high"}),
            version(store, nominal_id),
        )
        add(
            uow,
            nominal_id,
            Section.RISK_ASSESSMENTS,
            assessment("2026-06-01", "2026-12-01"),
            v,
        )
    facts = kept(store, nominal_id)
    assert (facts["assessed_on"], facts["assessment_review_on"]) == (
        dt.date(2026, 6, 1),
        dt.date(2026, 12, 1),
    )
    assert facts["risk_level"] == "high"  # the overall RoSH of the latest: its highest (children)
    seen = facts_seen(store, nominal_id)
    assert seen.last_assessed_on == dt.date(2026, 6, 1)

    # a visit recorded today: the last visit every agency may see
    visited = dt.datetime(2026, 11, 29, 10, 30, tzinfo=dt.UTC)
    with store.unit_of_work() as uow:
        nominals.append_chronology(
            uow,
            SystemActor("test"),
            nominal_id,
            ChronologyEntry(occurred_at=visited, kind="home_visit", summary="Home visit: seen at home"),
            expected_version=version(store, nominal_id),
        )
    facts = kept(store, nominal_id)
    assert all(facts[case_facts.visit_column(a)] == visited for a in Agency)
    assert facts_seen(store, nominal_id, Agency.PROBATION).last_home_visit == dt.date(2026, 11, 29)

    # the newer assessment ended: the older one is the latest current again
    with store.unit_of_work() as uow:
        newest = uow.session.scalar(
            select(m.Item.id).where(
                m.Item.nominal_id == nominal_id, m.Item.section == "risk_assessments", m.Item.id != older
            )
        )
        assert newest is not None
        nominals.end_item(
            uow, OFFICER, nominal_id, newest, "entered in error", expected_version=version(store, nominal_id)
        )
    facts = kept(store, nominal_id)
    assert (facts["assessed_on"], facts["assessment_review_on"]) == (dt.date(2026, 3, 1), dt.date(2026, 9, 1))
    assert facts["risk_level"] == "very_high"  # the older one's overall RoSH
    with store.session_factory() as s:
        assert case_facts.drift(s) == []


def test_the_owner_is_the_latest_current_officer_a_dateless_one_after_every_dated_one(store: Store) -> None:
    """Who owns the record's quality findings (decision 69): the latest current offender manager by start, one
    with no start after every dated one (on either engine: PostgreSQL sorts NULL first in a descending order
    unless told), the newest item breaking a tie; an ended one owns nothing."""
    nominal_id = managed_by_officer(store)  # kent.om1, from 2026-01-05
    later = {**MANAGER, "user_id": "kent.om2", "date_from": "2026-06-01"}
    dateless = {k: v for k, v in {**MANAGER, "user_id": "kent.om3"}.items() if k != "date_from"}
    with store.unit_of_work() as uow:
        _, v = add(uow, nominal_id, Section.OFFENDER_MANAGERS, dateless, version(store, nominal_id))
    assert kept(store, nominal_id)["owner"] == OFFICER.user_id  # dated, so before the dateless one
    with store.unit_of_work() as uow:
        second, v = add(uow, nominal_id, Section.OFFENDER_MANAGERS, later, v)
    assert kept(store, nominal_id)["owner"] == "kent.om2"
    with store.unit_of_work() as uow:
        nominals.end_item(uow, OFFICER, nominal_id, second, "moved on", expected_version=v)
    assert kept(store, nominal_id)["owner"] == OFFICER.user_id
    with store.session_factory() as s:
        assert case_facts.drift(s) == []


def test_a_withdrawn_visit_is_no_visit_and_an_amended_one_happened_when_the_amendment_says(
    store: Store, settings: Settings
) -> None:
    """A visit recorded in error and withdrawn must not make an overdue visit look done; the migration's
    definition agrees."""
    nominal_id = managed_by_officer(store)
    earlier = dt.datetime(2026, 6, 2, 9, 0, tzinfo=dt.UTC)
    wrong = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

    def append(entry: ChronologyEntry) -> uuid.UUID:
        with store.unit_of_work() as uow:
            entry_id, _ = nominals.append_chronology(
                uow, SystemActor("test"), nominal_id, entry, expected_version=version(store, nominal_id)
            )
        return entry_id

    append(ChronologyEntry(occurred_at=earlier, kind="home_visit", summary="Home visit: seen at home"))
    mistaken = append(
        ChronologyEntry(occurred_at=wrong, kind="home_visit", summary="Home visit: wrong record")
    )
    assert facts_seen(store, nominal_id).last_home_visit == dt.date(2026, 11, 28)

    append(
        ChronologyEntry(occurred_at=wrong, kind="withdrawal", summary="Recorded in error", amends=mistaken)
    )
    assert kept(store, nominal_id)["last_visit_police"] == earlier
    assert facts_seen(store, nominal_id, Agency.PROBATION).last_home_visit == dt.date(2026, 6, 2)

    # the earlier visit's date corrected by an amendment: it happened when the amendment says
    first = next(
        e for e in all_entries(store, nominal_id) if e.kind == "home_visit" and e.occurred_at == earlier
    )
    corrected = dt.datetime(2026, 6, 9, 9, 0, tzinfo=dt.UTC)
    append(
        ChronologyEntry(occurred_at=corrected, kind="amendment", summary="Visit on the 9th", amends=first.id)
    )
    assert facts_seen(store, nominal_id).last_home_visit == dt.date(2026, 6, 9)
    before = kept(store, nominal_id)
    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    command.downgrade(cfg, "0026")
    command.upgrade(cfg, "head")
    assert kept(store, nominal_id) == before


def all_entries(store: Store, nominal_id: uuid.UUID) -> list[m.ChronologyEntry]:
    with store.session_factory() as s:
        return list(s.scalars(select(m.ChronologyEntry).where(m.ChronologyEntry.nominal_id == nominal_id)))


def test_records_the_generator_writes_have_their_facts_and_the_migration_fills_them(
    store: Store, settings: Settings
) -> None:
    synthetic.generate(store, 120, 3, today=TODAY, batch=50)

    def rows() -> tuple[dict[uuid.UUID, tuple[object, ...]], dict[uuid.UUID, tuple[object, ...]]]:
        with store.session_factory() as s:
            facts = {r.nominal_id: tuple(r) for r in s.execute(select(m.CaseFactsRow.__table__))}
            officers = {r.item_id: tuple(r) for r in s.execute(select(m.CaseOfficerRow.__table__))}
        return facts, officers

    with store.session_factory() as s:
        assert case_facts.drift(s) == []
    before, officers_before = rows()
    assert (
        sum(1 for facts in before.values() if facts[1] is not None) > 50
    )  # assessed people, so it means something
    assert len({row[1] for row in officers_before.values()}) > 100  # the managed people's workload rows
    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    command.downgrade(cfg, "0026")
    command.upgrade(cfg, "head")
    assert rows() == (before, officers_before)
    command.downgrade(cfg, "0031")  # the workload's rows alone (migration 0032)
    command.upgrade(cfg, "head")
    assert rows() == (before, officers_before)


def test_facts_check_finds_stale_facts_and_repairs_them(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    synthetic.generate(store, 40, 9, today=TODAY, batch=40)
    with store.session_factory() as s, s.begin():
        victim = s.scalar(
            select(m.CaseFactsRow.nominal_id).where(m.CaseFactsRow.assessed_on.is_not(None)).limit(1)
        )
        s.execute(  # as a write that bypassed the unit of work would leave it
            update(m.CaseFactsRow).where(m.CaseFactsRow.nominal_id == victim).values(assessed_on=None)
        )
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }
    result = CliRunner().invoke(main, ["facts-check", "--json"], env=env)
    assert result.exit_code == 1 and json.loads(result.output)["stale"] == [str(victim)], result.output
    result = CliRunner().invoke(main, ["facts-check", "--repair"], env=env)
    assert result.exit_code == 0 and "stale 1; after repair: 0 differences" in result.output, result.output
    s_victim = kept(store, victim)
    with store.session_factory() as s, s.begin():  # stale again, for the nightly job's way of running it
        s.execute(update(m.CaseFactsRow).where(m.CaseFactsRow.nominal_id == victim).values(assessed_on=None))
    result = CliRunner().invoke(main, ["facts-check", "--repair", "--strict", "--json"], env=env)
    assert result.exit_code == 1, result.output  # mended at once, and the failed job tells an operator
    assert json.loads(result.output) == {"stale": [str(victim)], "after_repair": 0}
    assert kept(store, victim) == s_victim
    result = CliRunner().invoke(main, ["facts-check"], env=env)
    assert result.exit_code == 0 and "stale 0" in result.output
    assert kept(store, victim)["assessed_on"] is not None


def test_facts_check_finds_a_stale_workload_row_and_repairs_it(store: Store, settings: Settings) -> None:
    """A workload row (decision 72) left behind by a write that bypassed the unit of work, with its record's
    old area, or one missing: the check names the record and the repair works its rows out again."""
    synthetic.generate(store, 30, 4, today=TODAY, batch=30)
    with store.session_factory() as s, s.begin():
        K = m.CaseOfficerRow
        moved, gone = s.scalars(select(K.nominal_id).distinct().order_by(K.nominal_id).limit(2))
        s.execute(update(K).where(K.nominal_id == moved).values(area="elsewhere"))
        s.execute(K.__table__.delete().where(K.nominal_id == gone))
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }
    result = CliRunner().invoke(main, ["facts-check", "--repair", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"stale": sorted([str(moved), str(gone)]), "after_repair": 0}
    with store.session_factory() as s:
        assert case_facts.drift(s) == []
        areas = set(s.scalars(select(K.area).where(K.nominal_id.in_([moved, gone]))))
    assert areas and "elsewhere" not in areas


def test_a_header_set_without_a_version_claimed_moves_the_workload_rows_too(store: Store) -> None:
    """The notification sweep (`refresh_notifications`, after an upgrade or a change in the rules) sets the
    derived notification dates the workload counts without claiming a version: the unit of work notes the
    records an UPDATE of a header column is about to change, by the statement's own condition, and works their
    workload rows out again with the rest (decision 72)."""
    nominal_id = managed_by_officer(store)
    with store.unit_of_work() as uow:
        add(
            uow,
            nominal_id,
            Section.OFFENCES,
            {
                "offence": "Sexual assault",
                "conviction_date": "2020-01-20",
                "sexual": True,
                "disposal": {"kind": "imprisonment", "custody_months": 12},
            },
            version(store, nominal_id),
        )

    def workload_row() -> tuple[object, ...]:
        with store.session_factory() as s:
            K = m.CaseOfficerRow
            return tuple(
                s.execute(
                    select(K.notification_subject, K.notification_due_on).where(K.nominal_id == nominal_id)
                ).one()
            )

    derived = workload_row()
    assert derived[0] is True and derived[1] is not None
    with store.session_factory() as s, s.begin():  # as the dates stood before a change in the rules
        s.execute(
            update(m.Nominal)
            .where(m.Nominal.id == nominal_id)
            .values(notification_subject=False, notification_due_on=None)
        )
        case_facts.refresh(s, [nominal_id])
    assert workload_row() == (False, None)
    before = version(store, nominal_id)
    assert nominals.refresh_notifications(store) >= 1
    assert version(store, nominal_id) == before  # no version claimed
    assert workload_row() == derived
