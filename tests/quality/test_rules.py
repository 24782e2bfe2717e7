"""Each quality rule fires on a record that breaks it, and none fires on a record in good order."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select, update

from register.domain.actors import SystemActor
from register.domain.enums import Area
from register.domain.record import ChronologyEntry, NewNominal, Section
from register.domain.rules import parse_item
from register.domain.values import check_letter
from register.nominals import service
from register.quality import checks
from register.quality import service as quality
from register.store import models as m
from register.store.store import Store
from register.store.uow import UnitOfWork
from tests.factories import OFFICER

TODAY = dt.date.today()


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


_people = itertools.count(1)


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10), tzinfo=dt.UTC)


def build(
    uow: UnitOfWork,
    omit: set[str] = frozenset(),
    replace: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    identity: dict[str, Any] | None = None,
    extra: list[tuple[Section, dict[str, Any]]] = (),
    visits: list[int] = (30,),
    notifications: list[int] = (60,),
) -> uuid.UUID:
    """A record in good order, less what `omit` names, with `replace` overriding named parts. Each is a
    different person (its own date of birth and PNC ID), so the duplicate cascade leaves it alone."""
    n = next(_people)
    parts: dict[str, tuple[Section, dict[str, Any]]] = {
        "photo": (Section.PHOTOGRAPHS, {"taken_on": ago(100), "reference": "p/1.jpg"}),
        "address": (
            Section.ADDRESSES,
            {
                "kind": "home",
                "lines": ["1 High St"],
                "postcode": "ME16 8RP",
                "date_from": ago(900),
                "last_verified_on": ago(30),
            },
        ),
        "pnc": (Section.IDENTIFIERS, {"kind": "pnc", "value": f"2005/{n:07d}{check_letter(f'05{n:07d}')}"}),
        "om": (
            Section.OFFENDER_MANAGERS,
            {"agency": "police", "name": "DC Test", "user_id": "kent.om", "date_from": ago(400)},
        ),
        "ra": (
            Section.RISK_ASSESSMENTS,
            {
                "tool": "arms",
                "assessed_on": ago(60),
                "assessor": "DC",
                "rosh": {"public": "medium"},
                "next_review_on": ago(-300),
            },
        ),
        "meeting": (Section.MEETINGS, {"kind": "annual_review", "held_on": ago(90), "level": 1}),
        "offence": (
            Section.OFFENCES,
            {
                "offence": "Sexual assault",
                "conviction_date": ago(2000),
                "sexual": True,
                "disposal": {"kind": "imprisonment", "custody_months": 12},
            },
        ),
    } | (replace or {})
    new = NewNominal.model_validate(
        {
            "nominal_type": "rso",
            "area": "kent",
            "managing_unit": "Maidstone",
            "lead_agency": "police",
            "mappa_category": 1,
            "mappa_level": 1,
            **(header or {}),
            "identity": {
                "forenames": "A",
                "surname": "Test",
                "date_of_birth": (dt.date(1960, 1, 1) + dt.timedelta(days=n)).isoformat(),
                **(identity or {}),
            },
        }
    )
    nid = service.create_nominal(uow, OFFICER, new)
    v = 1
    for name, (section, payload) in parts.items():
        if name not in omit:
            _, v = service.add_item(uow, OFFICER, nid, parse_item(section, payload), expected_version=v)
    for section, payload in extra:
        _, v = service.add_item(uow, OFFICER, nid, parse_item(section, payload), expected_version=v)
    for days in visits:
        _, v = service.append_chronology(
            uow,
            OFFICER,
            nid,
            ChronologyEntry(occurred_at=at(days), kind="home_visit", summary="visit"),
            expected_version=v,
        )
    for days in notifications:
        _, v = service.append_chronology(
            uow,
            OFFICER,
            nid,
            ChronologyEntry(occurred_at=at(days), kind="notification", summary="notified"),
            expected_version=v,
        )
    return nid


def sweeping(passes: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a run probe each swept record's items ("probes": as a run over a small part of the register does)
    or read the register's items in one pass ("one pass": as a run over much of it does, decision 56)."""
    monkeypatch.setattr(checks, "ONE_PASS_SHARE", 2.0 if passes == "probes" else 0.0)


KENT = Area.KENT.value


def run_kent(store: Store, passes: str) -> uuid.UUID:
    """Kent's run: alone with probes, or within a run over every area in one pass."""
    with store.unit_of_work() as uow:
        actor = SystemActor("test")
        if passes == "probes":
            return quality.run(uow, actor, Area.KENT, TODAY)
        return quality.run_areas(uow, actor, None, TODAY)[Area.KENT]


@pytest.mark.parametrize("passes", ["probes", "one pass"])
def test_each_rule_fires_on_a_breach_and_not_on_a_record_in_good_order(
    store: Store, passes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways a run can work (decision 56): probing each swept record's items, and reading every item
    condition of every rule in one pass over the register's items."""
    sweeping(passes, monkeypatch)
    with store.unit_of_work() as uow:
        clean = build(uow)
        breaches = {
            "MISSING-PHOTO": build(uow, omit={"photo"}),
            "MISSING-ADDRESS": build(uow, omit={"address"}),
            "MISSING-DOB": build(uow, identity={"date_of_birth": None}),
            "MISSING-PNC-CAT1": build(uow, omit={"pnc"}),
            "MISSING-CATEGORY-LEVEL": build(
                uow, header={"nominal_type": "vo", "mappa_category": None, "mappa_level": None}
            ),
            "MISSING-OFFENDER-MANAGER": build(uow, omit={"om"}),
            "RA-OVERDUE": build(
                uow,
                replace={
                    "ra": (
                        Section.RISK_ASSESSMENTS,
                        {
                            "tool": "arms",
                            "assessed_on": ago(200),
                            "assessor": "DC",
                            "rosh": {"public": "medium"},
                            "next_review_on": ago(10),
                        },
                    )
                },
            ),
            "L1-NO-ANNUAL-REVIEW": build(uow, omit={"meeting"}),
            "L23-NO-PLAN": build(uow, header={"mappa_level": 2}),
            "VISIT-OVERDUE": build(uow, visits=[]),
            "NOTIFICATION-OVERDUE": build(uow, notifications=[400]),
            "NOTIFICATION-ENDED-ACTIVE": build(
                uow,
                replace={
                    "offence": (
                        Section.OFFENCES,
                        {
                            "offence": "Exposure",
                            "conviction_date": ago(3000),
                            "sexual": True,
                            "disposal": {"kind": "caution"},
                        },
                    )
                },
            ),
            "INDEFINITE-REVIEW-DUE": build(
                uow,
                replace={
                    "offence": (
                        Section.OFFENCES,
                        {
                            "offence": "Rape",
                            "conviction_date": ago(7000),
                            "sexual": True,
                            "disposal": {"kind": "imprisonment", "custody_months": 96},
                        },
                    )
                },
                notifications=[6990, 60],
            ),
            "LICENCE-ENDED-CAT2": build(
                uow,
                header={"nominal_type": "vo", "mappa_category": 2},
                extra=[
                    (
                        Section.ORDERS,
                        {
                            "kind": "licence",
                            "made_on": ago(800),
                            "starts_on": ago(800),
                            "ends_on": ago(100),
                            "status": "expired",
                        },
                    )
                ],
            ),
            "ADDRESS-UNVERIFIED": build(
                uow,
                replace={
                    "address": (
                        Section.ADDRESSES,
                        {
                            "kind": "home",
                            "lines": ["1 High St"],
                            "postcode": "ME16 8RP",
                            "date_from": ago(900),
                            "last_verified_on": ago(500),
                        },
                    )
                },
            ),
            "RECORD-STALE": build(uow),
            "INTEL-UNGRADED": build(
                uow, extra=[(Section.INTELLIGENCE, {"received_on": ago(5), "text": "ungraded report"})]
            ),
            "DISCLOSURE-NO-RATIONALE": build(
                uow,
                extra=[
                    (
                        Section.DISCLOSURES,
                        {"decided_on": ago(5), "recipient": "partner", "decision": "disclose"},
                    )
                ],
            ),
        }
        same_pnc = {
            "pnc": (Section.IDENTIFIERS, {"kind": "pnc", "value": f"2010/0000042{check_letter('100000042')}"})
        }
        breaches["DUPLICATE-SUSPECTED"] = build(uow, replace=same_pnc)
        build(uow, replace=same_pnc)
        breaches["RETENTION-REVIEW-DUE"] = build(uow)
        from register.archive import service as archive
        from register.archive.schemas import ArchiveRequest

        archive.archive(
            uow,
            OFFICER,
            breaches["RETENTION-REVIEW-DUE"],
            ArchiveRequest(reason="eligibility_ended"),
            expected_version=uow.nominals.header_row(breaches["RETENTION-REVIEW-DUE"]).version,
        )
        uow.session.execute(
            update(m.Nominal)
            .where(m.Nominal.id == breaches["RETENTION-REVIEW-DUE"])
            .values(retention_review_on=TODAY - dt.timedelta(days=1))
        )
        breaches["TRANSFER-PENDING"] = build(uow)
        from register.domain.enums import Area as AreaEnum
        from register.transfers import schemas as transfer_schemas
        from register.transfers import service as transfers

        version = uow.nominals.header_row(breaches["TRANSFER-PENDING"]).version
        transfer_id, _ = transfers.start(
            uow,
            OFFICER,
            breaches["TRANSFER-PENDING"],
            transfer_schemas.TransferRequest(to_area=AreaEnum.ESSEX, reason="moved"),
            expected_version=version,
        )
        uow.session.execute(
            update(m.Transfer)
            .where(m.Transfer.id == transfer_id)
            .values(requested_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
        )
        uow.session.execute(
            update(m.Nominal)
            .where(m.Nominal.id == breaches["RECORD-STALE"])
            .values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=400))
        )
    rules = quality.load_rules()
    assert {r.id for r in rules} == set(breaches)
    run_kent(store, passes)
    with store.session_factory() as s:
        findings = s.execute(
            select(m.QualityFinding.rule_id, m.QualityFinding.nominal_id).where(
                m.QualityFinding.area == Area.KENT.value
            )
        ).all()
    fired: dict[str, set[uuid.UUID]] = defaultdict(set)
    for rule_id, nominal_id in findings:
        fired[rule_id].add(nominal_id)
    missed = [rule for rule, nid in breaches.items() if nid not in fired[rule]]
    assert missed == [], f"rules that did not fire on their breach: {missed}"
    assert [rule for rule, ids in fired.items() if clean in ids] == [], "a record in good order was flagged"


def test_dashboard_trend_and_worklists(store: Store) -> None:
    with store.unit_of_work() as uow:
        build(uow, omit={"photo"})
    with store.unit_of_work() as uow:
        quality.run(uow, SystemActor("test"), Area.KENT, TODAY)
    with store.unit_of_work() as uow:
        build(uow, omit={"photo"})
        build(uow, omit={"photo", "om"})
    with store.unit_of_work() as uow:
        quality.run(uow, SystemActor("test"), Area.KENT, TODAY)
    with store.unit_of_work() as uow:
        board = quality.dashboard(uow, Area.KENT)
        mine = quality.worklist(uow, Area.KENT, owner="kent.om")
        unit = quality.worklist(uow, Area.KENT, unit="Maidstone", rule="MISSING-PHOTO")
        essex = quality.dashboard(uow, Area.ESSEX)
    photo = next(r for r in board["rules"] if r["rule"] == "MISSING-PHOTO")
    assert (photo["count"], photo["change"]) == (3, 2)
    assert board["by_severity"]["medium"] >= 3 and board["previous_run"] is not None
    assert {w["rule"] for w in mine} == {"MISSING-PHOTO"} and len(
        mine
    ) == 2  # the third has no offender manager
    assert len(unit) == 3 and all(w["record"].startswith("/v1/nominals/") for w in unit)
    assert essex["run"] is None


def assessment(days_ago: int, rosh: str) -> tuple[Section, dict[str, Any]]:
    return (
        Section.RISK_ASSESSMENTS,
        {
            "tool": "arms",
            "assessed_on": ago(days_ago),
            "assessor": "DC",
            "rosh": {"public": rosh},
            "next_review_on": ago(-300),
        },
    )


def manager(days_ago: int, user_id: str) -> tuple[Section, dict[str, Any]]:
    return (
        Section.OFFENDER_MANAGERS,
        {"agency": "police", "name": "DC Test", "user_id": user_id, "date_from": ago(days_ago)},
    )


@pytest.mark.parametrize("passes", ["probes", "one pass"])
def test_visit_interval_follows_the_latest_assessment_and_findings_name_the_latest_manager(
    store: Store, passes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VISIT-OVERDUE reads the level of each record's latest current assessment (very high: a month, high:
    three, medium: six, none: twelve) and its last home visit; every finding names the record's latest
    current offender manager. Both ways a run works them out: a lookup per swept record, and one pass over
    the register's items and visits."""
    sweeping(passes, monkeypatch)
    with store.unit_of_work() as uow:
        overdue = {
            "high now, low before: 100 days": build(
                uow, replace={"ra": assessment(300, "low")}, extra=[assessment(20, "high")], visits=[100]
            ),
            "very high: 40 days": build(uow, replace={"ra": assessment(20, "very_high")}, visits=[40]),
            "no assessment: 400 days": build(uow, omit={"ra"}, visits=[400]),
            "never visited": build(uow, visits=[]),
        }
        in_time = {
            "low now, high before: 100 days": build(
                uow, replace={"ra": assessment(300, "high")}, extra=[assessment(20, "low")], visits=[100]
            ),
            "medium: 100 days": build(uow, visits=[100]),
            "no assessment: 200 days": build(uow, omit={"ra"}, visits=[200]),
            "high: a visit 400 days ago, then one 20 days ago": build(
                uow, replace={"ra": assessment(20, "high")}, visits=[400, 20]
            ),
        }
        handed_over = build(uow, omit={"photo"}, extra=[manager(10, "kent.om2")])  # after kent.om (400 days)
    run_kent(store, passes)
    f = m.QualityFinding
    with store.session_factory() as s:
        visits = set(s.scalars(select(f.nominal_id).where(f.area == KENT, f.rule_id == "VISIT-OVERDUE")))
        owners = set(s.scalars(select(f.owner).where(f.area == KENT, f.nominal_id == handed_over).distinct()))
    assert [case for case, nid in overdue.items() if nid not in visits] == []
    assert [case for case, nid in in_time.items() if nid in visits] == []
    assert owners == {"kent.om2"}


def correct(store: Store, nominal_id: uuid.UUID, kind: str, visit_days_ago: int, days_ago: int) -> None:
    """Append a correction (`amendment` or `withdrawal`) to the record's home visit of `visit_days_ago`,
    saying it happened `days_ago` (a withdrawal's own date is the entry's)."""
    with store.session_factory() as s:
        E = m.ChronologyEntry
        visit = s.scalar(
            select(E.id).where(
                E.nominal_id == nominal_id, E.kind == "home_visit", E.occurred_at == at(visit_days_ago)
            )
        )
        version = s.scalar(select(m.Nominal.version).where(m.Nominal.id == nominal_id))
    assert visit is not None and version is not None
    with store.unit_of_work() as uow:
        service.append_chronology(
            uow,
            OFFICER,
            nominal_id,
            ChronologyEntry(occurred_at=at(days_ago), kind=kind, summary="corrected", amends=visit),
            expected_version=version,
        )


@pytest.mark.parametrize("passes", ["probes", "one pass"])
def test_visits_count_as_their_latest_correction_says(
    store: Store, passes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VISIT-OVERDUE reads each home visit as its latest correction says, as the caseload and the workload do
    (decision 62): a visit recorded on the wrong record and withdrawn does not hide an overdue visit, and a
    visit an amendment moves back past the interval no longer counts as recent. (Medium risk: six months.)"""
    sweeping(passes, monkeypatch)
    with store.unit_of_work() as uow:
        withdrawn = build(uow, visits=[400, 20])
        moved_back = build(uow, visits=[20])
        moved_forward = build(uow, visits=[300])
        standing = build(uow, visits=[400, 20])
    correct(store, withdrawn, "withdrawal", 20, 20)
    correct(store, moved_back, "amendment", 20, 250)
    correct(store, moved_forward, "amendment", 300, 15)
    run_kent(store, passes)
    f = m.QualityFinding
    with store.session_factory() as s:
        found = set(s.scalars(select(f.nominal_id).where(f.area == KENT, f.rule_id == "VISIT-OVERDUE")))
    assert {withdrawn, moved_back} <= found
    assert not {moved_forward, standing} & found
