"""Migrations run up and down on SQLite and PostgreSQL, and the models never drift from them."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import create_engine, inspect

from register.config import Settings
from register.domain.record import Section
from register.store.models import Base
from register.store.open import alembic_config


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(settings: Settings) -> None:
    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    url = settings.resolved_database_url
    assert set(Base.metadata.tables) <= tables(url)  # the template was built by the migrations
    command.check(cfg)  # raises if the models and the migrations differ
    command.downgrade(cfg, "base")
    assert tables(url) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= tables(url)
    command.check(cfg)


def test_the_audit_mac_migration_keeps_the_audit_log_append_only_both_ways(settings: Settings) -> None:
    """0009 adds and drops audit_event.mac in place: a batch copy of the table would drop SQLite's
    triggers."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as conn:  # SQLite's triggers are per row: there must be one
            conn.execute(
                text(
                    "INSERT INTO audit_event (event_id, occurred_at, action, tag, outcome, actor_user) "
                    "VALUES (:id, :at, 'administration', 'test:row', 'success', 'test')"
                ),
                {
                    "id": "0" * 31 + "1"
                    if engine.dialect.name == "sqlite"
                    else "00000000-0000-0000-0000-000000000001",
                    "at": "2026-11-30 00:00:00",
                },
            )
        for revision in ("0008", "0009"):
            command.downgrade(cfg, revision) if revision == "0008" else command.upgrade(cfg, revision)
            columns = {c["name"] for c in inspect(engine).get_columns("audit_event")}
            assert ("mac" in columns) == (revision == "0009")
            with pytest.raises(DatabaseError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM audit_event"))
    finally:
        engine.dispose()


def test_0018_backfills_the_statistics_history_so_a_past_years_figures_do_not_change(
    settings: Settings, monkeypatch: Any
) -> None:
    """A register built before 0018 has no history: the migration backfills it from what the database holds
    (initial values from creation, level changes, custody addresses, recalls, archiving, the originals of
    amendments), each row recorded when its source was, so a year's figures (published and revised) are the
    same after a downgrade to 0013 and an upgrade back as before."""
    from register.domain import clock
    from register.statistics import service as stats
    from register.store.open import build_store
    from tests.statistics.test_statistics_from_history import Register

    store = build_store(settings)
    r = Register(store, monkeypatch)
    r.at("2021-06-01T12:00:00+00:00")
    people = [r.person(), r.person(mappa_level=2), r.person(), r.person(), r.person(mappa_level=2)]
    r.at("2022-07-01T09:00:00+00:00").level(people[0], 1, 2, "2022-07-01")
    r.at("2022-12-01T12:00:00+00:00").item(
        people[2],
        Section.ADDRESSES,
        {"kind": "prison", "lines": ["HMP Maidstone"], "date_from": "2022-12-01"},
    )
    r.at("2022-09-10T10:00:00+00:00").event(
        people[1], occurred_at="2022-09-10T10:00:00Z", kind="recall", breach_of="licence", outcome="recall"
    )
    first = r.at("2022-11-01T10:00:00+00:00").event(
        people[3],
        occurred_at="2022-11-01T10:00:00Z",
        kind="breach",
        breach_of="notification",
        outcome="caution",
    )
    second = r.at("2022-11-02T10:00:00+00:00").event(
        people[3],
        occurred_at="2022-11-01T10:00:00Z",
        kind="amendment",
        amends=str(first),
        outcome="conviction",
    )
    r.at("2023-04-05T10:00:00+00:00").event(  # an amendment of the amendment, after publication
        people[3], occurred_at="2023-04-01T00:30:00+01:00", kind="amendment", amends=str(second)
    )
    r.at("2023-04-05T10:00:00+00:00").died(people[4], "2023-04-05")
    r.at("2023-06-01T12:00:00+00:00")
    with store.session_factory() as session:
        before = {area: stats._compute(session, area, 2023, None) for area in ("kent", "essex")}
    # in the community on 31 March: the fourth at Level 1; the first (Level 2 from July) and the fifth (died
    # in April) at Level 2; not the second (recalled) nor the third (in prison from December)
    assert before["kent"]["tables"]["eligible_on_31_march"] == {"1": {"1": 1, "2": 2}}
    assert [r["table"] for r in before["kent"]["revisions"]] == [
        "category_1_breach_of_notification"  # the second amendment moved the breach into the next year
    ]
    store.dispose()

    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    command.downgrade(cfg, "0013")
    command.upgrade(cfg, "head")
    store = build_store(settings)
    try:
        monkeypatch.setattr(clock, "now", lambda: r.now)
        with store.session_factory() as session:
            after = {area: stats._compute(session, area, 2023, None) for area in ("kent", "essex")}
    finally:
        store.dispose()
    assert after == before


def test_the_token_index_carries_the_record_id_on_postgresql_only(settings: Settings) -> None:
    """0024: on PostgreSQL a token lookup reads the record id from the index (the duplicates' rebuild); on
    SQLite the index stays (kind, token), whose planner scanned a kind's whole index for one record's pairs
    when the id was a third column."""
    engine = create_engine(settings.resolved_database_url)
    try:
        index = next(
            i for i in inspect(engine).get_indexes("blind_token") if i["name"] == "ix_blind_token_kind_token"
        )
    finally:
        engine.dispose()
    assert index["column_names"] == ["kind", "token"]
    options = index.get("dialect_options", {})
    included = index.get("include_columns") or options.get("postgresql_include") or []
    assert list(included) == (["nominal_id"] if engine.dialect.name == "postgresql" else [])
