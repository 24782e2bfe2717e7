"""The supervisor's worklist page and export (quality.service.worklist_page, export_worklist) and the
dashboard's trend: paged in SQL with the filters' choices and total, names and "found since" for the rows
shown, police-only intelligence absent for probation (rows, counts, choices), the export audited as a
disclosure."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from alembic import command
from sqlalchemy import Uuid, bindparam, delete, select, text

from register.config import Settings
from register.domain.actors import Principal, SystemActor
from register.domain.enums import Agency, Area, Role
from register.domain.record import Section
from register.quality import service as quality
from register.store import models as m
from register.store.open import alembic_config
from register.store.store import Store
from tests.quality.test_rules import TODAY, ago, build

POLICE = Principal("kent.sup", Agency.POLICE, Area.KENT, frozenset({Role.SUPERVISOR}), "DS Police")
PROBATION = Principal(
    "kent.sup.p", Agency.PROBATION, Area.KENT, frozenset({Role.SUPERVISOR}), "SPO Probation"
)
POLICE_ONLY_INTEL = (
    Section.INTELLIGENCE,
    {"received_on": ago(10), "text": "seen near the school", "audience": ["police"]},
)


def run(store: Store, day: dt.date = TODAY) -> None:
    with store.unit_of_work() as uow:
        quality.run(uow, SystemActor("test"), Area.KENT, day)


def test_pages_of_findings_with_names_since_when_and_the_filters_choices(store: Store) -> None:
    with store.unit_of_work() as uow:
        photoless = [build(uow, omit={"photo"}, identity={"surname": f"Person{i}"}) for i in range(7)]
    run(store, TODAY - dt.timedelta(days=14))
    run(store, TODAY - dt.timedelta(days=7))
    with store.unit_of_work() as uow:
        late = build(uow, omit={"photo"}, header={"managing_unit": "Medway"}, identity={"surname": "Late"})
    run(store)
    with store.unit_of_work() as uow:
        first = quality.worklist_page(
            uow,
            POLICE,
            quality.WorklistFilter(rule="MISSING-PHOTO"),
            page=1,
            agency=Agency.POLICE,
            page_size=5,
        )
        second = quality.worklist_page(
            uow,
            POLICE,
            quality.WorklistFilter(rule="MISSING-PHOTO"),
            page=2,
            agency=Agency.POLICE,
            page_size=5,
        )
        beyond = quality.worklist_page(
            uow,
            POLICE,
            quality.WorklistFilter(rule="MISSING-PHOTO"),
            page=99,
            agency=Agency.POLICE,
            page_size=5,
        )
        medway = quality.worklist_page(
            uow, POLICE, quality.WorklistFilter(unit="Medway"), page=1, agency=Agency.POLICE
        )
    assert (first["total"], first["pages"], len(first["rows"]), len(second["rows"])) == (8, 2, 5, 3)
    assert beyond["page"] == 2  # a page past the end is the last page, never an error
    shown = {r["nominal_id"] for r in first["rows"] + second["rows"]}
    assert shown == {str(i) for i in [*photoless, late]}
    by_id = {r["nominal_id"]: r for r in first["rows"] + second["rows"]}
    # found since: the first of an unbroken line of runs up to the latest
    assert by_id[str(photoless[0])]["since"] == TODAY - dt.timedelta(days=14)
    assert by_id[str(late)]["since"] == TODAY
    assert (
        by_id[str(late)]["surname"] == "Late"
        and by_id[str(late)]["description"] == "No photograph on the record"
    )
    assert {"Maidstone", "Medway"} <= set(first["facets"]["units"]) and "MISSING-PHOTO" in first["facets"][
        "rules"
    ]
    assert {r["nominal_id"] for r in medway["rows"]} == {str(late)} and medway["total"] == len(medway["rows"])


def test_police_only_intelligence_is_absent_for_probation_rows_counts_choices_and_trend(store: Store) -> None:
    with store.unit_of_work() as uow:
        flagged = build(uow, extra=[POLICE_ONLY_INTEL])
    run(store)
    with store.unit_of_work() as uow:
        police = quality.worklist_page(uow, POLICE, quality.WorklistFilter(), page=1, agency=Agency.POLICE)
        probation = quality.worklist_page(
            uow, PROBATION, quality.WorklistFilter(), page=1, agency=Agency.PROBATION
        )
        exported = quality.export_worklist(
            uow, PROBATION, quality.WorklistFilter(rule="INTEL-UNGRADED"), agency=Agency.PROBATION
        )
        board_police = quality.dashboard(uow, Area.KENT, agency=Agency.POLICE)
        board_probation = quality.dashboard(uow, Area.KENT, agency=Agency.PROBATION)
    assert ("INTEL-UNGRADED", str(flagged)) in {(r["rule"], r["nominal_id"]) for r in police["rows"]}
    assert "INTEL-UNGRADED" not in {r["rule"] for r in probation["rows"]}
    assert "INTEL-UNGRADED" not in probation["facets"]["rules"] and probation["total"] == police["total"] - 1
    assert exported == []

    def intel(board: dict[str, Any]) -> tuple[int, list[int]]:
        count = next(r["count"] for r in board["rules"] if r["rule"] == "INTEL-UNGRADED")
        return count, [p["counts"].get("INTEL-UNGRADED", 0) for p in board["trend"]]

    assert intel(board_police) == (1, [1]) and intel(board_probation) == (0, [0])
    assert board_probation["trend"][0]["total"] == board_police["trend"][0]["total"] - 1


def test_the_export_is_a_disclosure_naming_each_record(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = build(uow, omit={"address"})
    run(store)
    with store.unit_of_work() as uow:
        rows = quality.export_worklist(
            uow,
            POLICE,
            quality.WorklistFilter(rule="MISSING-ADDRESS"),
            agency=Agency.POLICE,
            request_id="r-1",
        )
    assert [r["nominal_id"] for r in rows] == [str(nid)] and rows[0]["surname"] == "Test"
    with store.session_factory() as s:
        event = s.scalars(
            select(m.AuditEvent)
            .where(m.AuditEvent.tag == "quality:worklist:export")
            .order_by(m.AuditEvent.seq.desc())
        ).first()
    assert event is not None and event.action == "disclosure" and event.actor_user == "kent.sup"
    assert json.loads(event.details)["ids"] == [str(nid)]


def test_pages_cross_rules_in_the_exports_order_most_severe_first(store: Store) -> None:
    with store.unit_of_work() as uow:
        for omit in ({"photo"}, {"address"}, {"photo", "address"}, {"om"}, {"ra"}):
            build(uow, omit=omit)
    run(store)
    with store.unit_of_work() as uow:
        everything = quality.export_worklist(uow, POLICE, quality.WorklistFilter(), agency=Agency.POLICE)
        pages, page = [], 1
        while True:
            found = quality.worklist_page(
                uow, POLICE, quality.WorklistFilter(), page=page, agency=Agency.POLICE, page_size=3
            )
            pages += found["rows"]
            if page >= found["pages"]:
                break
            page += 1
    order = [(r["rule"], r["nominal_id"]) for r in everything]
    assert [(r["rule"], r["nominal_id"]) for r in pages] == order and len(order) == found["total"] > 6
    severities = [r["severity"] for r in pages]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)


def kent_runs(store: Store) -> list[uuid.UUID]:
    """Kent's finished runs, oldest first."""
    with store.session_factory() as s:
        return list(
            s.scalars(
                select(m.QualityRun.id)
                .where(m.QualityRun.area == "kent")
                .order_by(m.QualityRun.started_at, m.QualityRun.id)
            )
        )


def days(store: Store) -> dict[tuple[str, uuid.UUID, str | None], Any]:
    """Kent's kept findings' first days (its latest run's), by (rule, record, audience)."""
    f = m.QualityFinding
    with store.session_factory() as s:
        return {
            (r.rule_id, r.nominal_id, r.audience): r.first_found_on
            for r in s.execute(
                select(f.rule_id, f.nominal_id, f.audience, f.first_found_on).where(f.area == "kent")
            )
        }


def a_history_with_a_broken_line(store: Store) -> tuple[uuid.UUID, uuid.UUID]:
    """Four weekly runs over two photoless records, one also with police-only intelligence; the second run
    did not find the second record's missing photograph (its finding removed, as if the run had not found
    it): that record's line starts again at the third run."""
    with store.unit_of_work() as uow:
        steady = build(uow, omit={"photo"}, extra=[POLICE_ONLY_INTEL])
        broken = build(uow, omit={"photo"})
    for weeks in (3, 2, 1, 0):
        run(store, TODAY - dt.timedelta(weeks=weeks))
        if weeks == 2:
            with store.session_factory() as s, s.begin():
                s.execute(
                    delete(m.QualityFinding).where(
                        m.QualityFinding.nominal_id == broken, m.QualityFinding.rule_id == "MISSING-PHOTO"
                    )
                )
    return steady, broken


def test_found_since_is_carried_from_run_to_run_and_starts_again_when_a_run_did_not_find_it(
    store: Store,
) -> None:
    steady, broken = a_history_with_a_broken_line(store)
    latest = days(store)
    three_weeks, one_week = TODAY - dt.timedelta(weeks=3), TODAY - dt.timedelta(weeks=1)
    assert latest[("MISSING-PHOTO", steady, None)] == three_weeks
    assert latest[("MISSING-PHOTO", broken, None)] == one_week
    assert (
        latest[("INTEL-UNGRADED", steady, "police")] == three_weeks
    )  # each agency's rows a line of their own
    assert ("INTEL-UNGRADED", steady, "probation") not in latest
    with store.unit_of_work() as uow:
        page = quality.worklist_page(
            uow, POLICE, quality.WorklistFilter(rule="MISSING-PHOTO"), page=1, agency=Agency.POLICE
        )
        exported = quality.export_worklist(
            uow, PROBATION, quality.WorklistFilter(rule="MISSING-PHOTO"), agency=Agency.PROBATION
        )
        everyone = quality.export_worklist(uow, POLICE, quality.WorklistFilter(), agency=None)
    for rows in (page["rows"], exported):
        since = {r["nominal_id"]: r["since"] for r in rows}
        assert since == {str(steady): three_weeks, str(broken): one_week}
    assert {(r["rule"], r["nominal_id"]): r["since"] for r in everyone}[("INTEL-UNGRADED", str(steady))] == (
        three_weeks
    )


def test_the_migration_keeps_the_latest_findings_and_counts_every_run_as_the_trend_did(
    store: Store, settings: Settings
) -> None:
    """Migration 0031: under the schema before it every run kept its own findings. Those of each area's latest
    run stay, with their days; every run's findings are counted per rule as the dashboard counted them (for
    each agency, and for everyone), and the older runs' findings are deleted."""
    steady, broken = a_history_with_a_broken_line(store)
    carried = days(store)
    with store.unit_of_work() as uow:
        before = {a: quality.dashboard(uow, Area.KENT, agency=a)["rules"] for a in (Agency.POLICE, None)}
    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    command.downgrade(cfg, "0030")
    *_, older, latest = kent_runs(store)
    with store.engine.begin() as conn:  # the run before the latest as it was kept then: no broken record
        conn.execute(
            text(
                "INSERT INTO quality_finding (run_id, rule_id, severity, who, nominal_id, area, "
                "managing_unit, owner, audience, first_found_on) SELECT :older, rule_id, severity, who, "
                "nominal_id, area, managing_unit, owner, audience, first_found_on FROM quality_finding "
                "WHERE run_id = :latest AND NOT (rule_id = 'MISSING-PHOTO' AND nominal_id = :broken)"
            ).bindparams(*(bindparam(name, type_=Uuid) for name in ("older", "latest", "broken"))),
            {"older": older, "latest": latest, "broken": broken},
        )
    command.upgrade(cfg, "head")
    assert days(store) == carried  # what the worklist reads and the next run carries
    with store.session_factory() as s:
        counts = {(r.run_id, r.rule_id, r.seen_by): r.people for r in s.scalars(select(m.QualityCount))}
    for agency in (Agency.POLICE, None):
        seen_by = agency.value if agency else "all"
        for row in before[agency]:
            assert counts.get((latest, row["rule"], seen_by), 0) == row["count"], (agency, row)
    assert counts[(older, "MISSING-PHOTO", "all")] == counts[(latest, "MISSING-PHOTO", "all")] - 1 == 1
    assert counts[(older, "INTEL-UNGRADED", "police")] == 1
    assert (older, "INTEL-UNGRADED", "probation") not in counts
    assert steady in {nominal for _, nominal, _ in carried}
