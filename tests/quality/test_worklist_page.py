"""The supervisor's worklist page and export (quality.service.worklist_page, export_worklist) and the
dashboard's trend: paged in SQL with the filters' choices and total, names and "found since" for the rows
shown, police-only intelligence absent for probation (rows, counts, choices), the export audited as a
disclosure."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from register.domain.actors import Principal, SystemActor
from register.domain.enums import Agency, Area, Role
from register.domain.record import Section
from register.quality import service as quality
from register.store import models as m
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
