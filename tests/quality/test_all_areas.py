"""The quality rules over several areas in one pass (`run_areas`: each rule one statement for every area) find
exactly what running each area alone finds: the same rules on the same records, with the same severity, who
must act, unit, owner and audience; one run per area, each audited."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from register.audit.tags import Tag
from register.domain.actors import SystemActor
from register.domain.enums import Area
from register.domain.record import Section
from register.domain.values import check_letter
from register.quality import service as quality
from register.store import models as m
from register.store.store import Store
from tests.quality.test_rules import TODAY, ago, build, sweeping

SWEPT = [Area.KENT, Area.ESSEX, Area.SURREY, Area.DORSET]  # Dorset has nobody: a run with no findings


def findings(store: Store, run_id: uuid.UUID) -> Counter[tuple[Any, ...]]:
    f = m.QualityFinding
    with store.session_factory() as s:
        return Counter(
            tuple(row)
            for row in s.execute(
                select(
                    f.rule_id, f.severity, f.who, f.nominal_id, f.area, f.managing_unit, f.owner, f.audience
                ).where(f.run_id == run_id)
            )
        )


def a_register_of_three_areas(store: Store) -> None:
    same_pnc = {
        "pnc": (Section.IDENTIFIERS, {"kind": "pnc", "value": f"2010/0000077{check_letter('100000077')}"})
    }
    essex = {"area": "essex", "managing_unit": "Chelmsford"}
    surrey = {"area": "surrey", "managing_unit": "Guildford"}
    with store.unit_of_work() as uow:
        build(uow)
        build(uow, omit={"photo"})
        build(uow, omit={"photo", "om"})
        build(uow, header={"nominal_type": "vo", "mappa_category": None, "mappa_level": None})
        build(uow, extra=[(Section.INTELLIGENCE, {"received_on": ago(5), "text": "ungraded report"})])
        build(uow, replace=same_pnc)  # a suspected duplicate across two areas
        build(uow, header=essex, replace=same_pnc)
        build(uow, header=essex, omit={"address"})
        build(uow, header={**essex, "mappa_level": 2})
        build(uow, header=essex, visits=[])
        build(
            uow,
            header=essex,
            extra=[
                (Section.DISCLOSURES, {"decided_on": ago(5), "recipient": "partner", "decision": "disclose"})
            ],
        )
        build(uow, header=surrey, identity={"date_of_birth": None})
        build(uow, header=surrey, notifications=[400])


def test_one_pass_over_several_areas_finds_what_each_area_finds_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_register_of_three_areas(store)
    actor = SystemActor("test")
    alone: dict[Area, uuid.UUID] = {}
    sweeping("probes", monkeypatch)  # each area alone probing its records' items, the passes below reading
    for area in SWEPT:
        with store.unit_of_work() as uow:
            alone[area] = quality.run(uow, actor, area, TODAY)
    sweeping("one pass", monkeypatch)  # the register's items in one pass (decision 56)
    with store.unit_of_work() as uow:
        together = quality.run_areas(uow, actor, SWEPT, TODAY)
    assert set(together) == set(SWEPT) and len(set(together.values())) == len(SWEPT)
    for area in SWEPT:
        assert findings(store, together[area]) == findings(store, alone[area]), area
    kent, essex = findings(store, together[Area.KENT]), findings(store, together[Area.ESSEX])
    assert {row[0] for row in kent} >= {"MISSING-PHOTO", "MISSING-CATEGORY-LEVEL", "DUPLICATE-SUSPECTED"}
    assert {row[0] for row in essex} >= {"MISSING-ADDRESS", "L23-NO-PLAN", "DUPLICATE-SUSPECTED"}
    assert any(row[7] is not None for row in kent)  # a rule evaluated per agency (intelligence)
    assert not findings(store, together[Area.DORSET])

    # The dashboard reads the new run like any other: the same counts as the run before it, no change.
    with store.unit_of_work() as uow:
        for area in (Area.KENT, Area.ESSEX, Area.SURREY):
            board = quality.dashboard(uow, area)
            assert board["run"]["id"] == str(together[area])
            assert board["previous_run"] == str(alone[area])
            assert all(row["change"] == 0 for row in board["rules"]), area
            assert sum(row["count"] for row in board["rules"]) > 0

    # Every area (None): one run for each of the 42, the swept ones again with the same findings.
    with store.unit_of_work() as uow:
        every = quality.run_areas(uow, actor, None, TODAY)
    assert set(every) == set(Area)
    for area in SWEPT:
        assert findings(store, every[area]) == findings(store, alone[area]), area
    with store.session_factory() as s:
        runs = s.execute(
            select(m.QualityRun.area, m.QualityRun.finished_at).where(
                m.QualityRun.id.in_(list(every.values()))
            )
        ).all()
    assert sorted(area for area, _ in runs) == sorted(a.value for a in Area)
    assert all(finished is not None for _, finished in runs)


def test_each_area_of_a_pass_is_audited_as_its_own_run(store: Store) -> None:
    a_register_of_three_areas(store)
    with store.unit_of_work() as uow:
        together = quality.run_areas(uow, SystemActor("sweeper"), SWEPT, TODAY)
    with store.session_factory() as s:
        events = s.scalars(
            select(m.AuditEvent).where(
                m.AuditEvent.tag == Tag.QUALITY_RUN_EXECUTE.value, m.AuditEvent.actor_user == "system:sweeper"
            )
        ).all()
    details = [json.loads(e.details or "{}") for e in events]
    assert sorted((d["area"], d["run"]) for d in details) == sorted(
        (area.value, str(run_id)) for area, run_id in together.items()
    )
    assert all(d["rules"] == len(quality.load_rules()) for d in details)
    with store.unit_of_work() as uow:
        assert quality.run_areas(uow, SystemActor("sweeper"), [], TODAY) == {}  # no area: no run, nothing


def test_a_run_keeps_each_swept_areas_newest_runs_and_drops_the_older_with_their_findings(
    store: Store,
) -> None:
    """Nightly runs would otherwise keep every finding for ever (at 100,000 people some 80 million rows a
    year); the pages read no further back than the runs kept."""
    a_register_of_three_areas(store)
    actor = SystemActor("sweeper")
    kent: list[uuid.UUID] = []
    for _ in range(3):
        with store.unit_of_work() as uow:
            kent.append(quality.run(uow, actor, Area.KENT, TODAY, keep=2))
    with store.unit_of_work() as uow:  # Essex's runs are not Kent's to drop
        essex = quality.run(uow, actor, Area.ESSEX, TODAY, keep=2)
    with store.unit_of_work() as uow:
        quality.run(uow, actor, Area.ESSEX, TODAY, keep=2)
    with store.session_factory() as s:
        kept = set(s.scalars(select(m.QualityRun.id)))
        holding = set(s.scalars(select(m.QualityFinding.run_id).distinct()))
    assert kent[0] not in kept and kent[0] not in holding  # the oldest of Kent's three, findings and all
    assert {kent[1], kent[2], essex} <= kept and {kent[1], kent[2], essex} <= holding
    assert findings(store, kent[1]) == findings(store, kent[2]) and findings(store, kent[2])
    with store.unit_of_work() as uow:
        board = quality.dashboard(uow, Area.KENT)
    assert board["run"]["id"] == str(kent[2]) and board["previous_run"] == str(kent[1])
    assert [t["id"] for t in board["trend"]] == [str(kent[1]), str(kent[2])]
    with store.session_factory() as s:
        dropped = [
            json.loads(e.details or "{}")
            for e in s.scalars(
                select(m.AuditEvent)
                .where(m.AuditEvent.tag == Tag.QUALITY_RUN_EXECUTE.value)
                .order_by(m.AuditEvent.seq)
            )
        ]
    assert [d["older_runs_dropped"] for d in dropped if d["area"] == "kent"] == [0, 0, 1]
    with store.unit_of_work() as uow, pytest.raises(ValueError):
        quality.run(uow, actor, Area.KENT, TODAY, keep=0)


@pytest.mark.postgres_only
def test_a_run_analyses_the_findings_when_the_statistics_do_not_know_the_runs_it_carries_forward(
    store: Store,
) -> None:
    """A run reads each area's previous run by its id to carry "found since" forward. Once every kept run is
    among the column's most common values, PostgreSQL counts a run written since the last ANALYZE as empty
    and loops over its findings for every finding (a run straight after another took twice as long at
    100,000 people): so a run analyses the findings first when those runs finished after the last ANALYZE,
    once a transaction, and not when the statistics already know them (a nightly run)."""
    a_register_of_three_areas(store)
    actor = SystemActor("sweeper")
    issued: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        issued.append(statement)

    def analyses() -> int:
        return sum(1 for statement in issued if statement.strip() == "ANALYZE quality_finding")

    with store.unit_of_work() as uow:
        first = quality.run_areas(uow, actor, [Area.KENT, Area.ESSEX], TODAY)
    event.listen(store.engine, "before_cursor_execute", note)
    try:
        with store.unit_of_work() as uow:  # two areas' runs in turn, as the area-by-area sweep makes them
            quality.run(uow, actor, Area.KENT, TODAY)
            quality.run(uow, actor, Area.ESSEX, TODAY)
        assert analyses() == 1
        with store.engine.connect() as conn:  # as autovacuum would, between two nightly runs
            conn.execute(text("ANALYZE quality_finding"))
            conn.commit()
            with store.session_factory() as s:
                finished = s.scalar(select(func.max(m.QualityRun.finished_at)))
            shown = None
            for _ in range(100):  # the statistics views show an ANALYZE within a second or so
                shown = conn.execute(
                    text(
                        "SELECT greatest(last_analyze, last_autoanalyze) FROM pg_stat_user_tables "
                        "WHERE relname = 'quality_finding'"
                    )
                ).scalar()
                conn.rollback()  # a new snapshot of the statistics each time
                if shown is not None and finished is not None and shown >= finished:
                    break
                time.sleep(0.1)
            assert shown is not None and finished is not None and shown >= finished
        issued.clear()
        with store.unit_of_work() as uow:
            quality.run(uow, actor, Area.KENT, TODAY)
        assert analyses() == 0
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    with store.unit_of_work() as uow:  # the latest Kent run found what the first did
        latest = uuid.UUID(quality.dashboard(uow, Area.KENT)["run"]["id"])
    assert findings(store, latest) == findings(store, first[Area.KENT]) and findings(store, latest)
