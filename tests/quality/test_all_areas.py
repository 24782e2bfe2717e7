"""The quality rules over several areas in one pass (`run_areas`: each rule one statement for every area) find
exactly what running each area alone finds: the same rules on the same records, with the same severity, who
must act, unit, owner and audience; one run per area, each audited."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from register.audit.tags import Tag
from register.domain.actors import SystemActor
from register.domain.enums import Area
from register.domain.record import Section
from register.domain.values import check_letter
from register.quality import service as quality
from register.store import case_facts
from register.store import models as m
from register.store.store import Store
from tests.quality.test_rules import TODAY, ago, build, sweeping

SWEPT = [Area.KENT, Area.ESSEX, Area.SURREY, Area.DORSET]  # Dorset has nobody: a run with no findings


def findings(store: Store, area: Area) -> Counter[tuple[Any, ...]]:
    """The area's kept findings: its latest run's."""
    f = m.QualityFinding
    with store.session_factory() as s:
        return Counter(
            tuple(row)
            for row in s.execute(
                select(
                    f.rule_id, f.severity, f.who, f.nominal_id, f.area, f.managing_unit, f.owner, f.audience
                ).where(f.area == area.value)
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
    found_alone = {area: findings(store, area) for area in SWEPT}
    sweeping("one pass", monkeypatch)  # the register's items in one pass (decision 56)
    with store.unit_of_work() as uow:
        together = quality.run_areas(uow, actor, SWEPT, TODAY)
    assert set(together) == set(SWEPT) and len(set(together.values())) == len(SWEPT)
    for area in SWEPT:  # a finding the pass did not find again would be gone; one more, added
        assert findings(store, area) == found_alone[area], area
    kent, essex = findings(store, Area.KENT), findings(store, Area.ESSEX)
    assert {row[0] for row in kent} >= {"MISSING-PHOTO", "MISSING-CATEGORY-LEVEL", "DUPLICATE-SUSPECTED"}
    assert {row[0] for row in essex} >= {"MISSING-ADDRESS", "L23-NO-PLAN", "DUPLICATE-SUSPECTED"}
    assert any(row[7] is not None for row in kent)  # a rule evaluated per agency (intelligence)
    assert not findings(store, Area.DORSET)

    # The dashboard reads the new run like any other: the same counts as the run before it, no change.
    with store.unit_of_work() as uow:
        for area in (Area.KENT, Area.ESSEX, Area.SURREY):
            board = quality.dashboard(uow, area)
            assert board["run"]["id"] == str(together[area])
            assert board["previous_run"] == str(alone[area])
            assert all(row["change"] == 0 for row in board["rules"]), area
            assert sum(row["count"] for row in board["rules"]) > 0

    # Every area (None) from nothing kept: one run for each of the 42, the swept ones with the same findings.
    with store.session_factory() as s, s.begin():
        s.execute(delete(m.QualityFinding))
    with store.unit_of_work() as uow:
        every = quality.run_areas(uow, actor, None, TODAY)
    assert set(every) == set(Area)
    for area in SWEPT:
        assert findings(store, area) == found_alone[area], area
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
        counted = set(s.scalars(select(m.QualityCount.run_id).distinct()))
    assert kent[0] not in kept and kent[0] not in counted  # the oldest of Kent's three, counts and all
    assert {kent[1], kent[2], essex} <= kept and {kent[1], kent[2], essex} <= counted
    assert findings(store, Area.KENT)  # the latest run's, whatever the runs dropped
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


def test_a_run_writes_only_what_changed_and_keeps_what_a_run_from_nothing_would(store: Store) -> None:
    """Decision 71: a run keeps the findings it finds again as they are (the same rows, with their day), adds
    the new (a record that moved to another unit: its rows are new, their day carried; a new breach: the run's
    day) and deletes those it no longer finds (a breach put right), so that what is kept is what a run from
    nothing finds, and each run's counts are what it found."""
    week_ago = TODAY - dt.timedelta(weeks=1)
    with store.unit_of_work() as uow:
        steady = build(uow, omit={"photo"})
        put_right = build(uow, header={"nominal_type": "vo", "mappa_category": None, "mappa_level": None})
        moved = build(uow, omit={"photo"})
    actor = SystemActor("sweeper")
    with store.unit_of_work() as uow:
        quality.run(uow, actor, Area.KENT, week_ago)
    f = m.QualityFinding

    def kept() -> dict[tuple[str, uuid.UUID, str | None], tuple[int, str, dt.date | None]]:
        with store.session_factory() as s:
            return {
                (r.rule_id, r.nominal_id, r.audience): (r.id, r.managing_unit, r.first_found_on)
                for r in s.execute(select(f).where(f.area == "kent")).scalars()
            }

    before = kept()
    assert ("MISSING-CATEGORY-LEVEL", put_right, None) in before
    with store.session_factory() as s, s.begin():
        s.execute(update(m.Nominal).where(m.Nominal.id == put_right).values(mappa_category=3, mappa_level=1))
        s.execute(update(m.Nominal).where(m.Nominal.id == moved).values(managing_unit="Dover"))
        case_facts.refresh(s, [put_right, moved])  # as a writer claiming no version must: store/case_facts.py
    with store.unit_of_work() as uow:
        new = build(uow, omit={"photo"})
    with store.unit_of_work() as uow:
        latest = quality.run(uow, actor, Area.KENT, TODAY)
    after = kept()
    assert after[("MISSING-PHOTO", steady, None)] == before[("MISSING-PHOTO", steady, None)]  # not rewritten
    assert ("MISSING-CATEGORY-LEVEL", put_right, None) not in after
    was, now = before[("MISSING-PHOTO", moved, None)], after[("MISSING-PHOTO", moved, None)]
    assert now[0] != was[0] and now[1:] == ("Dover", week_ago)
    assert after[("MISSING-PHOTO", new, None)][2] == TODAY
    unchanged = {key for key in before.keys() & after.keys() if before[key][1] == after[key][1]}
    assert all(after[key] == before[key] for key in unchanged)

    with store.unit_of_work() as uow:
        trend = quality.dashboard(uow, Area.KENT)["trend"]
    assert trend[-1]["id"] == str(latest)
    carried_forward = findings(store, Area.KENT)
    with store.session_factory() as s, s.begin():
        s.execute(delete(f))
    with store.unit_of_work() as uow:
        quality.run(uow, actor, Area.KENT, TODAY)
        scratch = quality.dashboard(uow, Area.KENT)["trend"][-1]
    assert findings(store, Area.KENT) == carried_forward
    assert scratch["counts"] == trend[-1]["counts"] and scratch["total"] == trend[-1]["total"] >= 3


@pytest.mark.postgres_only
def test_a_run_waits_for_another_of_the_same_findings_and_then_keeps_them_once(store: Store) -> None:
    """A run compares what it finds with the findings kept: a second run started while the first has not
    committed would see none of the first's new findings and insert them again (and, rebuilding the suspected
    duplicate pairs, fail on the pairs' key). So a run takes the findings' lock first (SQLite has one writer
    anyway), and the second starts from what the first committed."""
    a_register_of_three_areas(store)
    actor = SystemActor("sweeper")

    def run_kent() -> uuid.UUID:
        with store.unit_of_work() as uow:
            return quality.run(uow, actor, Area.KENT, TODAY)

    with ThreadPoolExecutor(max_workers=1) as pool:
        with store.unit_of_work() as uow:
            first = quality.run(uow, actor, Area.KENT, TODAY)
            second = pool.submit(run_kent)
            done, _ = wait([second], timeout=2)
            assert not done  # held by the first run's lock
        assert second.result(timeout=60) != first
    f = m.QualityFinding
    with store.session_factory() as s:
        lines = s.execute(select(f.rule_id, f.nominal_id, f.audience).where(f.area == "kent")).all()
    assert lines and len(lines) == len(set(lines))
