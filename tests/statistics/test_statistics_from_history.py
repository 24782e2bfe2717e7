"""The annual statistics from history: a two-area register built through the use cases on the register's clock
(people move between areas across 31 March, change level during the year, die, are recalled, are cautioned,
have entries corrected and withdrawn, and are registered after the year ends), compared cell by cell with
figures worked out by hand below. Definitions: docs/statistics.md."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from register.archive import service as archive
from register.archive.schemas import ArchiveRequest
from register.domain import clock, history
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.errors import InvalidValue
from register.domain.record import ChronologyEntry, NewNominal, Section
from register.domain.rules import parse_item
from register.nominals import service
from register.statistics import service as stats
from register.store.store import Store
from register.transfers import schemas as transfer_schemas
from register.transfers import service as transfers
from tests.factories import OFFICER, SUPERVISOR

YEAR = 2023  # 1 April 2022 to 31 March 2023, UK time; snapshot at the end of 31 March 2023 (BST)
ESSEX_SUPERVISOR = Principal(
    "essex.sup1", Agency.POLICE, Area.ESSEX, frozenset({Role.SUPERVISOR}), "DS Essex"
)
UTC = dt.UTC
AREAS = [a.value for a in Area]


@pytest.fixture(autouse=True, params=["engine's own", "the other"])
def resolving(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test on each engine both ways a person's state is resolved (decision 68): the way chosen for the
    engine (one sort on PostgreSQL, lookups on SQLite) and the other one, so neither way is only as right as
    the figures of the engine it was chosen for."""
    if request.param == "the other":
        monkeypatch.setattr(
            stats, "ONE_SORT_ENGINES", frozenset({"postgresql", "sqlite"}) - stats.ONE_SORT_ENGINES
        )


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


class Register:
    """A register driven through its use cases, on a clock the test moves."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.store = store
        self.now = utc("2021-06-01T12:00:00+00:00")
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def at(self, when: str) -> Register:
        self.now = utc(when)
        return self

    def version(self, nid: uuid.UUID) -> int:
        with self.store.unit_of_work() as uow:
            return int(uow.nominals.header_row(nid).version)

    def person(self, **header: Any) -> uuid.UUID:
        base = {
            "nominal_type": "rso",
            "area": "kent",
            "managing_unit": "Maidstone",
            "lead_agency": "police",
            "mappa_category": 1,
            "mappa_level": 1,
            "identity": {"forenames": "A", "surname": "B"},
        }
        with self.store.unit_of_work() as uow:
            nid = service.create_nominal(uow, OFFICER, NewNominal.model_validate({**base, **header}))
        return nid

    def item(self, nid: uuid.UUID, section: Section, payload: dict[str, Any]) -> uuid.UUID:
        with self.store.unit_of_work() as uow:
            item_id, _ = service.add_item(
                uow, OFFICER, nid, parse_item(section, payload), expected_version=self.version(nid)
            )
        return item_id

    def level(self, nid: uuid.UUID, category: int, level: int, since: str) -> None:
        self.item(
            nid,
            Section.MAPPA_LEVELS,
            {"category": category, "level": level, "effective_from": since, "rationale": "r"},
        )

    def event(self, nid: uuid.UUID, **entry: Any) -> uuid.UUID:
        with self.store.unit_of_work() as uow:
            entry_id, _ = service.append_chronology(
                uow,
                OFFICER,
                nid,
                ChronologyEntry.model_validate({"summary": "event", **entry}),
                expected_version=self.version(nid),
            )
        return entry_id

    def transfer(self, nid: uuid.UUID, to: Area, unit: str) -> None:
        with self.store.unit_of_work() as uow:
            transfer_id, _ = transfers.start(
                uow,
                OFFICER,
                nid,
                transfer_schemas.TransferRequest(to_area=to, reason="moved"),
                expected_version=self.version(nid),
            )
            transfers.accept(
                uow, ESSEX_SUPERVISOR, transfer_id, transfer_schemas.Acceptance(managing_unit=unit)
            )

    def died(self, nid: uuid.UUID, on: str) -> None:
        with self.store.unit_of_work() as uow:
            archive.archive(
                uow,
                SUPERVISOR,
                nid,
                ArchiveRequest(reason="died", died_on=dt.date.fromisoformat(on)),  # type: ignore[arg-type]
                expected_version=self.version(nid),
            )

    def figures(self, area: str, year: int = YEAR) -> dict[str, Any]:
        with self.store.session_factory() as session:
            return stats._compute(session, area, year, 1_000_000)

    def every_area(self, year: int = YEAR) -> dict[str, dict[str, Any]]:
        """Every area's figures in one pass (not kept), with the same population as `figures`."""
        with self.store.session_factory() as session:
            return stats._compute_areas(
                session, [a.value for a in Area], year, dict.fromkeys(AREAS, 1_000_000)
            )

    def behind(self, area: str, table: str, row: str, col: str, *, revised: bool = False) -> set[uuid.UUID]:
        with self.store.session_factory() as session:
            return set(stats.people(session, area, YEAR, table, row, col, revised=revised))


def test_every_cell_of_a_two_area_register_matches_the_figures_worked_out_by_hand(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = Register(store, monkeypatch)
    r.at("2021-06-01T12:00:00+00:00")  # everyone below is registered then, unless said otherwise
    alice = r.person()
    ben = r.person(mappa_level=2)
    cara = r.person(nominal_type="vo", mappa_category=2, mappa_level=3)
    dan = r.person(mappa_level=2)
    eve = r.person()
    finn = r.person()
    hal = r.person(mappa_level=2)
    ivy = r.person(mappa_level=2)
    jon = r.person()
    kim = r.person(mappa_level=2)
    lee = r.person()
    mo = r.person(area="essex", managing_unit="Chelmsford")

    # alice: Level 2 from 1 July, back to Level 1 from 1 October 2022
    r.at("2022-07-01T09:00:00+00:00").level(alice, 1, 2, "2022-07-01")
    r.at("2022-10-01T09:00:00+00:00").level(alice, 1, 1, "2022-10-01")
    # ben (Level 2): cautioned for breach of notification in Kent in June; moves to Essex on 1 December;
    # convicted (no custody) for another breach in Essex in February
    r.at("2022-06-10T10:00:00+00:00").event(
        ben, occurred_at="2022-06-10T10:00:00Z", kind="breach", breach_of="notification", outcome="caution"
    )
    r.at("2022-12-01T10:00:00+00:00").transfer(ben, Area.ESSEX, "Chelmsford")
    r.at("2023-02-01T10:00:00+00:00").event(
        ben,
        occurred_at="2023-02-01T10:00:00Z",
        kind="breach",
        breach_of="notification",
        outcome="conviction_nocustody",
    )
    # cara (VO, Level 3): Essex accepts her at 23:30 BST on 31 March 2023 (22:30 UTC): Essex's on the night
    r.at("2023-03-31T23:30:00+01:00").transfer(cara, Area.ESSEX, "Colchester")
    # dan (Level 2): recalled for breach of licence in September 2022; still in custody on 31 March
    r.at("2022-09-10T10:00:00+00:00").event(
        dan, occurred_at="2022-09-10T10:00:00Z", kind="recall", breach_of="licence", outcome="recall"
    )
    # eve died on 31 March 2023; the register learnt it on 5 April 2023, after the figures were published
    r.at("2023-04-05T10:00:00+00:00").died(eve, "2023-03-31")
    # finn: a breach of notification recorded as a caution, amended four days later to a conviction (counts
    # once, as the conviction); a custodial sentence for breach of SHPO recorded in error and withdrawn the
    # next day (he stays in the community)
    caution = r.at("2022-11-01T10:00:00+00:00").event(
        finn, occurred_at="2022-11-01T10:00:00Z", kind="breach", breach_of="notification", outcome="caution"
    )
    r.at("2022-11-05T10:00:00+00:00").event(
        finn,
        occurred_at="2022-11-01T10:00:00Z",
        kind="amendment",
        amends=str(caution),
        outcome="conviction_nocustody",
    )
    wrong = r.at("2022-12-01T10:00:00+00:00").event(
        finn,
        occurred_at="2022-12-01T10:00:00Z",
        kind="breach",
        breach_of="shpo",
        outcome="conviction_custody",
    )
    r.at("2022-12-02T10:00:00+00:00").event(
        finn, occurred_at="2022-12-02T10:00:00Z", kind="withdrawal", amends=str(wrong)
    )
    # gail: registered on 10 April 2023 with a breach from 1 March 2023: never in 2022/23's figures
    gail = r.at("2023-04-10T10:00:00+00:00").person()
    r.event(
        gail, occurred_at="2023-03-01T10:00:00Z", kind="breach", breach_of="notification", outcome="caution"
    )
    # hal (Level 2): sent to custody for breach of his SHPO at 23:30 BST on 31 March 2023: this year's, and
    # not in the community that night
    r.at("2023-04-01T09:00:00+01:00").event(
        hal,
        occurred_at="2023-03-31T23:30:00+01:00",
        kind="breach",
        breach_of="shpo",
        outcome="conviction_custody",
    )
    # ivy (Level 2): cautioned at 00:30 BST on 1 April 2023 (31 March 23:30 UTC): next year's
    r.at("2023-04-01T09:00:00+01:00").event(
        ivy,
        occurred_at="2023-04-01T00:30:00+01:00",
        kind="breach",
        breach_of="notification",
        outcome="caution",
    )
    # jon: cautioned in January 2023; on 1 May 2023 the entry is withdrawn as recorded in error (a revision)
    jons = r.at("2023-01-15T10:00:00+00:00").event(
        jon, occurred_at="2023-01-15T10:00:00Z", kind="breach", breach_of="notification", outcome="caution"
    )
    r.at("2023-05-01T10:00:00+00:00").event(
        jon, occurred_at="2023-05-01T10:00:00Z", kind="withdrawal", amends=str(jons)
    )
    # kim (Level 2): Level 3 from 1 August to 1 November 2022: managed at both, counted once, at Level 3
    r.at("2022-08-01T09:00:00+00:00").level(kim, 1, 3, "2022-08-01")
    r.at("2022-11-01T09:00:00+00:00").level(kim, 1, 2, "2022-11-01")
    # lee: a SHPO with a foreign travel restriction made in Kent on 5 May 2022; moves to Essex on 1 August
    r.at("2022-05-05T12:00:00+00:00").item(
        lee,
        Section.ORDERS,
        {
            "kind": "shpo",
            "made_on": "2022-05-05",
            "starts_on": "2022-05-05",
            "foreign_travel_restriction": True,
        },
    )
    r.at("2022-08-01T12:00:00+00:00").transfer(lee, Area.ESSEX, "Basildon")
    # mo (Essex): notification revoked on application on 11 November 2022
    r.at("2022-11-11T12:00:00+00:00").item(
        mo,
        Section.ORDERS,
        {
            "kind": "notification_requirement",
            "made_on": "2005-01-01",
            "starts_on": "2005-01-01",
            "ends_on": "2022-11-11",
            "status": "revoked",
        },
    )

    r.at("2023-06-01T12:00:00+00:00")  # computed after all the late entries
    kent, essex = r.figures("kent"), r.figures("essex")

    # Kent, as published (the register at the end of 1 April 2023):
    # in the community at the end of 31 March: alice (L1 again), eve (her death not yet known), finn (the
    # custody was withdrawn), jon at Level 1; ivy (her caution is next year's and no custody) and kim at
    # Level 2. Not: ben, cara, lee (Essex's by then), dan (recalled), hal (in custody since 23:30), gail
    # (registered after the year), mo (Essex).
    assert kent["as_known_at"] == "2023-04-01T23:00:00+00:00" and kent["provisional"] is None
    t = kent["tables"]
    assert t["eligible_on_31_march"] == {"1": {"1": 4, "2": 2}}
    assert r.behind("kent", "eligible_on_31_march", "1", "1") == {alice, eve, finn, jon}
    # at Level 2 or 3 while Kent's during the year: alice, ben (until December), dan, hal, ivy at Level 2;
    # kim once, at Level 3; cara (VO) at Level 3 until 23:30 on 31 March
    assert t["level_2_3_during_year"] == {"1": {"2": 5, "3": 1}, "2": {"3": 1}}
    assert r.behind("kent", "level_2_3_during_year", "1", "3") == {kim}
    # breach of notification in Kent: ben (June caution), finn (one event, amended), jon (published before
    # it was withdrawn); not ivy (next year), not gail (registered after)
    assert t["category_1_breach_of_notification"] == {"category_1": {"count": 3}}
    assert t["lifetime_notification_revoked"] == {}
    assert t["orders_made"] == {"shpo": {"count": 1}, "shpo_foreign_travel_restriction": {"count": 1}}
    assert t["notification_after_sro_breach"] == {}
    assert t["level_2_3_returned_to_custody"] == {"1": {"2": 1}}  # dan
    assert r.behind("kent", "level_2_3_returned_to_custody", "1", "2") == {dan}
    assert t["breach_of_shpo"] == {"breach_of_shpo": {"2": 1}}  # hal; finn's was withdrawn (and Level 1)
    assert t["registered_sex_offenders_by_unit"] == {"Maidstone": {"count": 6}}
    assert kent["notification_rate_per_100k"] == 0.6  # 6 Category 1 in 1,000,000
    # The revisions since publication: eve's death (recorded 5 April) and jon's withdrawn caution (1 May)
    assert kent["revisions"] == [
        {
            "table": "category_1_breach_of_notification",
            "row": "category_1",
            "column": "count",
            "published": 3,
            "revised": 2,
        },
        {"table": "eligible_on_31_march", "row": "1", "column": "1", "published": 4, "revised": 3},
        {
            "table": "registered_sex_offenders_by_unit",
            "row": "Maidstone",
            "column": "count",
            "published": 6,
            "revised": 5,
        },
    ]
    assert r.behind("kent", "eligible_on_31_march", "1", "1", revised=True) == {alice, finn, jon}

    # Essex: ben (Level 2), lee (Level 1) and cara (VO, Level 3, Essex's from 23:30 on 31 March) in the
    # community; mo's notification was revoked in November
    e = essex["tables"]
    assert e["eligible_on_31_march"] == {"1": {"1": 1, "2": 1}, "2": {"3": 1}}
    assert r.behind("essex", "eligible_on_31_march", "2", "3") == {cara}
    assert e["level_2_3_during_year"] == {"1": {"2": 1}, "2": {"3": 1}}  # ben from December; cara that night
    assert e["category_1_breach_of_notification"] == {"category_1": {"count": 1}}  # ben, February
    assert e["lifetime_notification_revoked"] == {"category_1": {"count": 1}}  # mo
    assert e["orders_made"] == {}  # lee's SHPO was made while Kent held his record
    assert e["level_2_3_returned_to_custody"] == {} and e["breach_of_shpo"] == {}
    assert e["registered_sex_offenders_by_unit"] == {"Basildon": {"count": 1}, "Chelmsford": {"count": 1}}
    assert essex["revisions"] == []
    assert gail  # registered after the year: in no cell above

    # Every area in one pass (each table grouped by area): the same figures, revisions included, and an
    # area with nobody in it has the empty tables it has alone.
    every = r.every_area()
    assert every["kent"] == kent and every["essex"] == essex
    assert every["surrey"] == r.figures("surrey")
    assert every["surrey"]["tables"] == {name: {} for name in stats.TABLES}


def test_a_year_computed_on_1_april_is_the_published_figure_and_later_entries_are_revisions(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = Register(store, monkeypatch)
    r.at("2021-06-01T12:00:00+00:00")
    late = r.person()
    on_time = r.person()
    r.at("2023-03-20T10:00:00+00:00").event(
        on_time,
        occurred_at="2023-03-20T10:00:00Z",
        kind="breach",
        breach_of="notification",
        outcome="caution",
    )
    r.at("2023-04-01T12:00:00+01:00")  # 1 April 2023: the figures as published
    published = r.figures("kent")
    assert published["tables"]["category_1_breach_of_notification"] == {"category_1": {"count": 1}}
    # a breach in March recorded on 3 April: the published figure stands, the revision is shown beside it
    r.at("2023-04-03T10:00:00+00:00").event(
        late, occurred_at="2023-03-25T10:00:00Z", kind="breach", breach_of="notification", outcome="caution"
    )
    r.at("2026-11-30T12:00:00+00:00")
    later = r.figures("kent")
    assert later["tables"] == published["tables"]
    assert later["revisions"] == [
        {
            "table": "category_1_breach_of_notification",
            "row": "category_1",
            "column": "count",
            "published": 1,
            "revised": 2,
        }
    ]


def test_a_year_not_ended_is_provisional_one_not_begun_is_refused_one_before_the_data_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = Register(store, monkeypatch)
    r.at("2022-06-01T12:00:00+00:00")
    nid = r.person(mappa_level=2)
    r.at("2022-12-01T12:00:00+00:00")
    running = r.figures("kent")
    assert running["provisional"] == "2022-12-01" and running["period"]["to"] == "2022-12-01"
    assert running["tables"]["eligible_on_31_march"] == {"1": {"2": 1}}  # to the end of today
    assert r.every_area()["kent"] == running  # provisional, every area in one pass
    with pytest.raises(InvalidValue) as refused:
        r.figures("kent", 2024)  # 1 April 2023 to 31 March 2024 has not begun on 1 December 2022
    assert refused.value.rule == "year_not_begun" and refused.value.field == "year"
    before = r.figures("kent", 2020)
    assert before["tables"]["eligible_on_31_march"] == {} and "no data for this year" in before["note"]
    assert r.every_area(2020)["kent"] == before
    assert before["register_data_from"] == "2022-06-01"
    assert nid


def test_uk_local_time_decides_the_day_around_the_march_clock_change() -> None:
    y = stats.Year(2023)
    # the year starts at midnight BST on 1 April 2022 and ends at midnight BST after 31 March 2023
    assert y.start_ts() == utc("2022-03-31T23:00:00+00:00")
    assert y.end_ts() == utc("2023-03-31T23:00:00+00:00")
    assert y.published_at() == utc("2023-04-01T23:00:00+00:00")
    # clocks went forward at 01:00 UTC on 26 March 2023: that day began at midnight GMT, the next at BST
    assert history.start_of_day(dt.date(2023, 3, 26)) == utc("2023-03-26T00:00:00+00:00")
    assert history.start_of_day(dt.date(2023, 3, 27)) == utc("2023-03-26T23:00:00+00:00")
    assert history.local_day(utc("2023-03-26T00:59:00+00:00")) == dt.date(2023, 3, 26)
    assert history.local_day(utc("2023-03-26T23:30:00+00:00")) == dt.date(2023, 3, 27)
    assert history.local_day(utc("2023-03-31T23:30:00+00:00")) == dt.date(2023, 4, 1)  # next year's
    assert history.local_day(utc("2022-03-31T23:30:00+00:00")) == dt.date(2022, 4, 1)  # this year's


def test_a_level_change_on_the_day_of_the_clock_change_counts_from_that_local_midnight(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A level effective from 27 March 2023 (the first whole day of BST) is in force from 23:00 UTC on the
    26th; a breach at 23:30 UTC on the 26th is at the new level, one at 22:30 UTC at the old."""
    r = Register(store, monkeypatch)
    r.at("2021-06-01T12:00:00+00:00")
    before, after = r.person(mappa_level=2), r.person(mappa_level=2)
    for nid in (before, after):
        r.at("2023-03-01T12:00:00+00:00").level(nid, 1, 3, "2023-03-27")
    r.at("2023-03-27T12:00:00+01:00").event(
        before, occurred_at="2023-03-26T22:30:00Z", kind="breach", breach_of="shpo", outcome="recall"
    )
    r.event(after, occurred_at="2023-03-26T23:30:00Z", kind="breach", breach_of="shpo", outcome="recall")
    r.at("2023-06-01T12:00:00+00:00")
    assert r.figures("kent")["tables"]["breach_of_shpo"] == {"breach_of_shpo": {"2": 1, "3": 1}}
    assert r.behind("kent", "breach_of_shpo", "breach_of_shpo", "3") == {after}


def test_through_the_api_a_year_not_begun_is_refused_naming_the_field_and_the_rule(client, token) -> None:  # type: ignore[no-untyped-def]
    from tests.api.helpers import auth

    today = dt.date.today()
    not_begun = today.year + (2 if today.month >= 4 else 1)
    refused = client.get("/v1/statistics", params={"year": not_begun}, headers=auth(token(Role.SUPERVISOR)))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [
        {
            "field": "query.year",
            "rule": "year_not_begun",
            "message": refused.json()["errors"][0]["message"],
        }
    ]
    cell = client.get(
        "/v1/statistics/cell",
        params={
            "year": not_begun,
            "table": "eligible_on_31_march",
            "row": "1",
            "column": "1",
            "revised": True,
        },
        headers=auth(token(Role.SUPERVISOR)),
    )
    assert cell.status_code == 422 and cell.json()["errors"][0]["field"] == "query.year"


def test_a_notification_period_that_ended_on_31_march_is_not_counted_one_ending_the_next_day_is(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The requirement derived from the offences (decision 20): a caution is 2 years from its date, and the
    requirement is over on its end date. Cautioned on 31 March 2021: over on 31 March 2023, not counted that
    night. Cautioned on 1 April 2021: over on 1 April 2023, still counted on 31 March."""
    r = Register(store, monkeypatch)
    r.at("2021-06-01T12:00:00+00:00")
    over, still = r.person(), r.person()
    for nid, on in ((over, "2021-03-31"), (still, "2021-04-01")):
        r.item(
            nid,
            Section.OFFENCES,
            {"offence": "Exposure", "conviction_date": on, "sexual": True, "disposal": {"kind": "caution"}},
        )
    r.at("2023-06-01T12:00:00+00:00")
    assert r.figures("kent")["tables"]["eligible_on_31_march"] == {"1": {"1": 1}}
    assert r.behind("kent", "eligible_on_31_march", "1", "1") == {still}
    # a later conviction with a longer period moves the end: the earlier end is superseded, not kept
    r.at("2023-07-01T12:00:00+00:00").item(
        over,
        Section.OFFENCES,
        {
            "offence": "Exposure",
            "conviction_date": "2020-01-01",
            "sexual": True,
            "disposal": {"kind": "fine"},
        },
    )  # 5 years: to 1 January 2025
    assert r.behind("kent", "eligible_on_31_march", "1", "1", revised=True) == {over, still}
    assert r.behind("kent", "eligible_on_31_march", "1", "1") == {still}  # as published, unchanged


def test_a_revision_is_shown_beside_its_table_and_its_people_are_audited_as_revised(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from register.audit import service as audit
    from register.audit.service import LogQuery
    from register.web.statistics import shape

    r = Register(store, monkeypatch)
    r.at("2021-06-01T12:00:00+00:00")
    alive, dead = r.person(), r.person()
    r.at("2023-04-05T10:00:00+00:00").died(dead, "2023-03-30")  # recorded after publication: a revision
    r.at("2023-06-01T12:00:00+00:00")
    with store.unit_of_work() as uow:
        this, last = stats.read_tables_compared(uow, SUPERVISOR, "kent", YEAR)
    table = shape("eligible_on_31_march", this, last, YEAR)
    assert table["revisions"] == [
        {
            "cell": "Category 1, Level 1",
            "published": 2,
            "revised": 1,
            "href": "/statistics/people?year=2023&table=eligible_on_31_march&row=1&column=1&revised=1",
        }
    ]
    assert "at the end of 31 March" in table["definition"]
    with store.unit_of_work() as uow:
        found = stats.read_cell_people(
            uow, SUPERVISOR, "kent", YEAR, "eligible_on_31_march", "1", "1", revised=True
        )
    assert [p.id for p in found.people] == [alive]
    auditor = Principal("kent.aud1", Agency.POLICE, Area.KENT, frozenset({Role.AUDITOR}), "Auditor")
    with store.unit_of_work() as uow:
        events = audit.read_log(uow, auditor, LogQuery(user=SUPERVISOR.user_id, limit=20))
    cell = [json.loads(e["details"]) for e in events if e["tag"] == "statistics:cell:people"]
    assert cell[0]["revised"] is True and cell[0]["ids"] == [str(alive)]
