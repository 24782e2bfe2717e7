"""A register whose true annual figures are known: the statistics match cell for cell, snapshot and year rules
included."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from register.domain import clock
from register.domain.record import ChronologyEntry, NewNominal, Section
from register.domain.rules import parse_item
from register.nominals import service
from register.statistics import service as stats
from register.store.store import Store
from tests.factories import OFFICER

YEAR = 2023  # 1 April 2022 to 31 March 2023; snapshot 31 March 2023
BEFORE_THE_YEAR_ENDED = dt.datetime(2022, 3, 1, 12, tzinfo=dt.UTC)

# The register's clock while these registers are built: people registered after a year ended never appear in
# its figures (docs/statistics.md), so the people of the 2022/23 register are registered before it ended, not
# on the day the test runs; the figures are computed today.


def person(
    uow,
    header: dict[str, Any],
    items: list[tuple[Section, dict[str, Any]]] = (),
    events: list[dict[str, Any]] = (),
) -> uuid.UUID:  # type: ignore[no-untyped-def]
    base = {
        "nominal_type": "rso",
        "area": "kent",
        "managing_unit": "Maidstone",
        "lead_agency": "police",
        "mappa_category": 1,
        "mappa_level": 1,
    }
    nid = service.create_nominal(
        uow,
        OFFICER,
        NewNominal.model_validate({**base, **header, "identity": {"forenames": "A", "surname": "B"}}),
    )
    v = 1
    for section, payload in items:
        _, v = service.add_item(uow, OFFICER, nid, parse_item(section, payload), expected_version=v)
    for event in events:
        _, v = service.append_chronology(
            uow,
            OFFICER,
            nid,
            ChronologyEntry.model_validate({"summary": "event", **event}),
            expected_version=v,
        )
    return nid


def level(category: int, lvl: int, since: str) -> tuple[Section, dict[str, Any]]:
    return (
        Section.MAPPA_LEVELS,
        {"category": category, "level": lvl, "effective_from": since, "rationale": "r"},
    )


def test_the_annual_tables_match_a_register_with_known_figures(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
    with store.unit_of_work() as uow:
        r1 = person(uow, {})
        r2 = person(
            uow, {"managing_unit": "Canterbury"}, [level(1, 1, "2020-01-01"), level(1, 2, "2022-06-01")]
        )
        person(
            uow,
            {"nominal_type": "vo", "mappa_category": 2},
            [(Section.ADDRESSES, {"kind": "prison", "lines": ["HMP Maidstone"], "date_from": "2022-12-01"})],
        )
        r4 = person(
            uow,
            {"nominal_type": "vo", "mappa_category": 2, "mappa_level": 3},
            [level(2, 3, "2021-01-01")],
            [
                {
                    "occurred_at": "2022-09-10T10:00:00Z",
                    "kind": "recall",
                    "breach_of": "licence",
                    "outcome": "recall",
                }
            ],
        )
        r5 = person(uow, {"nominal_type": "terrorism", "mappa_category": 4})
        r6 = person(
            uow,
            {},
            [
                (
                    Section.ORDERS,
                    {
                        "kind": "shpo",
                        "made_on": "2022-05-05",
                        "starts_on": "2022-05-05",
                        "foreign_travel_restriction": True,
                    },
                ),
                (
                    Section.ORDERS,
                    {"kind": "notification_order", "made_on": "2021-03-01", "starts_on": "2021-03-01"},
                ),
            ],
            [
                {
                    "occurred_at": "2022-10-01T10:00:00Z",
                    "kind": "breach",
                    "breach_of": "notification",
                    "outcome": "conviction",
                },
                {
                    "occurred_at": "2023-04-02T10:00:00Z",
                    "kind": "breach",
                    "breach_of": "notification",
                    "outcome": "caution",
                },
            ],
        )  # next year
        person(
            uow,
            {"area": "essex"},
            events=[
                {
                    "occurred_at": "2022-10-01T10:00:00Z",
                    "kind": "breach",
                    "breach_of": "notification",
                    "outcome": "conviction",
                }
            ],
        )
        r8 = person(
            uow,
            {"managing_unit": "Canterbury", "mappa_level": 2},
            events=[
                {
                    "occurred_at": "2023-02-01T10:00:00Z",
                    "kind": "breach",
                    "breach_of": "shpo",
                    # the Kent 2022/23 "Breach of SHPO" row counts Level 2 and 3 people returned to custody
                    # for it: a conviction with a custodial sentence (a conviction whose sentence is not
                    # recorded no longer counts)
                    "outcome": "conviction_custody",
                }
            ],
        )
        r9 = person(
            uow,
            {"nominal_type": "pdp", "mappa_category": None, "mappa_level": None},
            events=[
                {
                    "occurred_at": "2022-08-08T10:00:00Z",
                    "kind": "breach",
                    "breach_of": "sro",
                    "outcome": "conviction",
                }
            ],
        )
        r10 = person(
            uow,
            {},
            [
                (
                    Section.ORDERS,
                    {
                        "kind": "notification_requirement",
                        "made_on": "2005-01-01",
                        "starts_on": "2005-01-01",
                        "ends_on": "2022-11-11",
                        "status": "revoked",
                    },
                )
            ],
        )
    monkeypatch.undo()  # computed today, years after 2022/23 ended
    with store.session_factory() as session:
        figures = stats.compute(session, "kent", YEAR, population_10_plus=1_000_000)
        behind = set(stats.people(session, "kent", YEAR, "eligible_on_31_march", "1", "2"))
        units = set(
            stats.people(session, "kent", YEAR, "registered_sex_offenders_by_unit", "Maidstone", "count")
        )
        shpo = set(stats.people(session, "kent", YEAR, "breach_of_shpo", "breach_of_shpo", "2"))
        revoked = set(
            stats.people(session, "kent", YEAR, "lifetime_notification_revoked", "category_1", "count")
        )
    t = figures["tables"]
    assert figures["year"] == "2022/23" and figures["snapshot"] == "2023-03-31"
    # In the community on 31 March: r1 and r6 at Level 1, r2 at Level 2. Not counted (the definitions of
    # docs/statistics.md, from history): the VO in prison; r4, recalled in September 2022 and not released;
    # r8, in custody after the SHPO breach of February 2023; r10, whose notification was revoked in November
    # 2022.
    assert t["eligible_on_31_march"] == {"1": {"1": 2, "2": 1}}
    assert figures["unpublished"] == {
        "eligible_on_31_march": {"4": {"1": 1}}
    }  # Category 4 counted, not published
    assert t["level_2_3_during_year"] == {"1": {"2": 2}, "2": {"3": 1}}
    assert t["category_1_breach_of_notification"] == {
        "category_1": {"count": 1}
    }  # the April 2023 caution is next year's
    assert t["lifetime_notification_revoked"] == {"category_1": {"count": 1}}
    assert t["orders_made"] == {
        "shpo": {"count": 1},
        "shpo_foreign_travel_restriction": {"count": 1},
    }  # the 2021 notification order is not this year's
    assert t["notification_after_sro_breach"] == {"count": {"count": 1}}
    assert t["level_2_3_returned_to_custody"] == {"2": {"3": 1}}
    assert t["breach_of_shpo"] == {"breach_of_shpo": {"2": 1}}
    assert t["registered_sex_offenders_by_unit"] == {"Maidstone": {"count": 2}, "Canterbury": {"count": 1}}
    assert figures["notification_rate_per_100k"] == 0.3
    assert behind == {r2} and units == {r1, r6} and shpo == {r8} and revoked == {r10}
    assert r4 and r5 and r9  # named for the reader: each appears in the cells above


def test_csv_and_html_carry_every_figure() -> None:
    from register.statistics import render

    figures = {
        "area": "kent",
        "year": "2022/23",
        "period": {"from": "2022-04-01", "to": "2023-03-31"},
        "snapshot": "2023-03-31",
        "tables": {
            "eligible_on_31_march": {"1": {"1": 3, "2": 2}},
            "registered_sex_offenders_by_unit": {"<Unit & Co>": {"count": 5}},
        },
        "unpublished": {},
        "notification_rate_per_100k": 0.5,
    }
    csv_text = render.to_csv(figures)
    assert (
        "kent,2022/23,eligible_on_31_march,1,2,2" in csv_text
        and "notification_rate_per_100k,category_1,rate,0.5" in csv_text
    )
    page = render.to_html(figures)
    assert "<td>1</td><td>3</td><td>2</td><td>5</td>" in page  # row, level 1, level 2, total
    assert "&lt;Unit &amp; Co&gt;" in page and "<Unit & Co>" not in page  # escaped


def test_statistics_through_the_api_with_audited_drill_down(client, token, store: Store) -> None:  # type: ignore[no-untyped-def]
    import json

    from sqlalchemy import select

    from register.domain.enums import Role
    from register.store import models as m
    from tests.api.helpers import auth

    with store.unit_of_work() as uow:
        nid = person(uow, {"mappa_level": 2})
    supervisor = token(Role.SUPERVISOR)
    today = dt.date.today()
    year = today.year + (1 if today.month >= 4 else 0)  # the reporting year that includes today
    figures = client.get(
        "/v1/statistics", params={"year": year, "population_10_plus": 200_000}, headers=auth(supervisor)
    ).json()
    assert (
        figures["tables"]["eligible_on_31_march"] == {"1": {"2": 1}}
        and figures["notification_rate_per_100k"] == 0.5
    )
    assert client.get(
        "/v1/statistics", params={"year": year, "format": "html"}, headers=auth(supervisor)
    ).text.startswith("<!doctype html>")
    cell = client.get(
        "/v1/statistics/cell",
        params={"year": year, "table": "eligible_on_31_march", "row": "1", "column": "2"},
        headers=auth(supervisor),
    ).json()
    assert cell["nominal_ids"] == [str(nid)]
    with store.session_factory() as s:
        details = json.loads(
            s.execute(
                select(m.AuditEvent.details).where(m.AuditEvent.tag == "statistics:cell:people")
            ).scalar_one()
        )
    assert details["ids"] == [str(nid)]
    assert (
        client.get(
            "/v1/statistics", params={"year": year}, headers=auth(token(Role.OFFENDER_MANAGER))
        ).status_code
        == 403
    )
    bad = client.get(
        "/v1/statistics/cell",
        params={"year": year, "table": "nope", "row": "1", "column": "1"},
        headers=auth(supervisor),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.table"


def registered_at_level_2(store: Store, monkeypatch: pytest.MonkeyPatch) -> uuid.UUID:
    """A Category 1 person managed at Level 2 since 2020, registered before the year ended."""
    with monkeypatch.context() as registering, store.unit_of_work() as uow:
        registering.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
        return person(uow, {}, [level(1, 2, "2020-01-01")])


@contextlib.contextmanager
def statements_run(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store's engine runs inside the block."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_: Any) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_kept_figures_are_never_stale_and_spare_the_queries(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year's figures are kept until the register changes: a second view runs none of the tables'
    queries, and a change to any record (a new one, an item) gives the figures a fresh computation shows."""
    first = registered_at_level_2(store, monkeypatch)

    with store.session_factory() as session:
        before = stats.compute(session, "kent", YEAR)
        with statements_run(store) as statements:
            again = stats.compute(session, "kent", YEAR)
    assert again == before and len(statements) == 1  # only the register's stamp was read
    assert before["tables"]["eligible_on_31_march"]["1"] == {"2": 1}
    again["tables"]["eligible_on_31_march"]["1"]["2"] = 99  # a caller's copy: the kept figures are unharmed
    with store.session_factory() as session:
        assert stats.compute(session, "kent", YEAR) == before
    with monkeypatch.context() as registering, store.unit_of_work() as uow:
        registering.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
        person(uow, {}, [level(1, 2, "2021-06-01")])
        _, v = service.add_item(
            uow, OFFICER, first, parse_item(*level(1, 3, "2020-02-01")), expected_version=2
        )
    with store.session_factory() as session:
        after = stats.compute(session, "kent", YEAR)
        fresh = stats._compute(session, "kent", YEAR, None)
    assert after == fresh and after != before


def test_a_page_of_two_years_reads_the_register_stamp_once_and_is_never_stale(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The year-on-year page (`read_tables_compared`) reads the register's stamp once for both years: a
    second view runs that one statement and the audit event's, and after a change both years are what a
    fresh computation gives."""
    from tests.factories import SUPERVISOR

    first = registered_at_level_2(store, monkeypatch)

    with store.unit_of_work() as uow:
        before = stats.read_tables_compared(uow, SUPERVISOR, "kent", YEAR)
    with store.unit_of_work() as uow:  # the statements of the view itself (not the sealing after its commit)
        with statements_run(store) as statements:
            again = stats.read_tables_compared(uow, SUPERVISOR, "kent", YEAR)
    assert again == before
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "sum(nominal.version - nominal.quiet_changes)" in reads[0], reads
    with monkeypatch.context() as registering, store.unit_of_work() as uow:
        registering.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
        service.add_item(uow, OFFICER, first, parse_item(*level(1, 3, "2021-06-01")), expected_version=2)
    with store.unit_of_work() as uow:
        this, last = stats.read_tables_compared(uow, SUPERVISOR, "kent", YEAR)
    with store.session_factory() as session:
        assert this == stats._compute(session, "kent", YEAR, None)
        assert last == stats._compute(session, "kent", YEAR - 1, None)
    assert this != before[0] and last != before[1]


def test_the_people_behind_a_figure_are_kept_until_the_register_changes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records behind a cell are kept as the figures are: paging through a figure runs none of its
    queries again, and a change to a record (its level moved, a new person) gives what a fresh computation
    gives, at once."""
    first = registered_at_level_2(store, monkeypatch)
    cell = ("kent", YEAR, "eligible_on_31_march", "1", "2")

    with store.session_factory() as session:
        assert stats.people(session, *cell) == [first]
        with statements_run(store) as statements:
            assert stats.people_page(session, *cell, offset=0, limit=1, whole_up_to=0) == (1, [first])
        assert len(statements) == 1  # only the register's stamp was read
        assert stats.people_page(session, *cell, offset=1, limit=1, whole_up_to=0) == (1, [])  # past the end
        assert stats.people_page(session, *cell, offset=-3, limit=1, whole_up_to=0) == (1, [first])
    with monkeypatch.context() as registering, store.unit_of_work() as uow:
        registering.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
        _, v = service.add_item(
            uow, OFFICER, first, parse_item(*level(1, 3, "2020-02-01")), expected_version=2
        )
    with store.session_factory() as session:
        assert stats.people(session, *cell) == []  # moved to Level 3: not kept at Level 2
        assert stats.people(session, "kent", YEAR, "eligible_on_31_march", "1", "3") == [first]
    with monkeypatch.context() as registering, store.unit_of_work() as uow:
        registering.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
        second = person(uow, {}, [level(1, 2, "2021-06-01")])
    with store.session_factory() as session:
        assert stats.people(session, *cell) == [second]
        assert stats.people(session, *cell) == sorted(
            stats._ids(session.scalars(*stats._cell(session, *cell, False))), key=str
        )  # the cell's own query, run afresh (not its kept ids)


def test_narrative_entries_keep_the_figures_and_every_other_entry_moves_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most of a live register's changes are contacts, home visits and the like, which no figure reads: the
    kept figures outlive them (decision 91), and are still what a fresh computation gives. An entry of every
    other kind (a breach, a recall, a release, a notification, a transfer, an archive) and every correction
    moves the register's stamp, so no view after it can be served figures kept from before it."""
    from register.domain.enums import ChronologyKind
    from register.domain.history import NARRATIVE_KINDS

    kinds = {k.value for k in ChronologyKind}
    assert kinds > NARRATIVE_KINDS  # a misspelt kind would never be narrative
    running = clock.now().year + (1 if clock.now().month >= 4 else 0)
    first = registered_at_level_2(store, monkeypatch)
    with monkeypatch.context() as registering, store.unit_of_work() as uow:
        registering.setattr(clock, "now", lambda: BEFORE_THE_YEAR_ENDED)
        breach = service.append_chronology(
            uow,
            OFFICER,
            first,
            ChronologyEntry.model_validate(
                {
                    "occurred_at": "2022-09-10T10:00:00Z",
                    "kind": "breach",
                    "summary": "breach",
                    "breach_of": "licence",
                    "outcome": "recall",
                }
            ),
            expected_version=2,
        )[0]
    version = 3
    moved: dict[str, bool] = {}
    for kind in ChronologyKind:
        entry: dict[str, Any] = {
            "occurred_at": clock.now().isoformat(),  # in the running year: counted there if it counts
            "kind": kind.value,
            "summary": f"a {kind.value}",
            "outcome": "conviction_custody",  # an outcome is allowed on any entry; only some kinds count it
        }
        if kind in (ChronologyKind.BREACH, ChronologyKind.RECALL):
            entry["breach_of"] = "licence"
        if kind in (ChronologyKind.AMENDMENT, ChronologyKind.WITHDRAWAL):
            entry["amends"] = str(breach)
        with store.session_factory() as session:
            stamp = stats.register_stamp(session)
            kept = {year: stats.compute(session, "kent", year) for year in (YEAR, running)}
        with store.unit_of_work() as uow:
            _, version = service.append_chronology(
                uow, OFFICER, first, ChronologyEntry.model_validate(entry), expected_version=version
            )
        with store.session_factory() as session:
            moved[kind.value] = stats.register_stamp(session) != stamp
            for year in (YEAR, running):
                fresh = stats._compute(session, "kent", year, None)
                assert stats.compute(session, "kent", year) == fresh, (kind, year)
                if not moved[kind.value]:
                    assert fresh == kept[year], (kind, year)  # a kept view would have been right
    assert {k for k, m in moved.items() if not m} == NARRATIVE_KINDS


def test_items_of_sections_no_figure_reads_keep_the_figures_and_the_others_move_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An offender manager's daily items (a risk assessment, a plan, a contact, intelligence) are read by no
    figure: adding, correcting or ending one leaves the kept figures, which are still what a fresh computation
    gives. An order, an offence, an address or a level moves the stamp (decision 91)."""
    from register.domain.errors import DomainError
    from register.domain.history import NARRATIVE_SECTIONS
    from register.nominals.examples import section_examples

    assert {s.value for s in Section} > NARRATIVE_SECTIONS  # a misspelt section would never be narrative
    running = clock.now().year + (1 if clock.now().month >= 4 else 0)
    first = registered_at_level_2(store, monkeypatch)
    version = 2
    today = clock.now().date().isoformat()
    counted = {  # dated today, in the running year: each of these moves a figure there
        Section.ORDERS: {"kind": "shpo", "made_on": today, "starts_on": today},
        Section.MAPPA_LEVELS: {"category": 1, "level": 3, "effective_from": today, "rationale": "escalated"},
        Section.ADDRESSES: {"kind": "prison", "lines": ["HMP Maidstone"], "date_from": today},
    }
    moved: dict[tuple[str, str], bool] = {}
    differs: set[tuple[str, str]] = set()
    for section, payload in section_examples().items():
        item = parse_item(section, counted.get(section, payload))
        item_id = None
        for step in ("add", "correct", "end"):
            with store.session_factory() as session:
                stamp = stats.register_stamp(session)
                kept = {year: stats.compute(session, "kent", year) for year in (YEAR, running)}
            try:
                with store.unit_of_work() as uow:
                    if step == "add":
                        item_id, version = service.add_item(
                            uow, OFFICER, first, item, expected_version=version
                        )
                    elif step == "correct":
                        version = service.correct_item(
                            uow, OFFICER, first, item_id, item, expected_version=version
                        )
                    else:
                        version = service.end_item(
                            uow, OFFICER, first, item_id, "ended", expected_version=version, section=section
                        )
            except DomainError:  # a section with use cases of its own (a photograph, a meeting's minutes)
                break
            with store.session_factory() as session:
                moved[section.value, step] = stats.register_stamp(session) != stamp
                for year in (YEAR, running):
                    fresh = stats._compute(session, "kent", year, None)
                    assert stats.compute(session, "kent", year) == fresh, (section, step, year)
                    if fresh != kept[year]:
                        differs.add((section.value, step))
                        assert moved[section.value, step], (section, step, year)  # never served stale
    sections = {s for s, _ in moved}
    assert sections >= {"risk_assessments", "risk_plans", "contacts", "intelligence", "offender_managers"}
    assert sections >= {"orders", "offences", "addresses", "mappa_levels"}
    assert {key for key, m in moved.items() if not m} == {
        (s, step) for s, step in moved if s in NARRATIVE_SECTIONS
    }
    assert {s for s, _ in differs} == {"orders", "mappa_levels", "addresses"}  # the fresh figures did move
    assert not NARRATIVE_SECTIONS & {"orders", "offences", "addresses", "mappa_levels"}
