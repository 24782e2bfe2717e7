"""The commands a newcomer and an operator run, end to end on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from register import demo as demo_data
from register.cli import main
from register.store import models as m

# the hand-made people and the offender managers' caseloads (src/register/demo.py)
DEMO_RECORDS = (
    len(demo_data.PEOPLE) + sum(count for *_, count in demo_data.CASELOADS) + demo_data.CASEWORK_RECORDS
)


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def demo_records(database: Path, **plain: object) -> list[str]:
    """The ids of the demo's records with these plain (unencrypted) header values."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            query = select(m.Nominal.id).filter_by(**plain).order_by(m.Nominal.created_at)
            return [str(i) for i in conn.execute(query).scalars()]
    finally:
        engine.dispose()


def test_demo_builds_the_store_loads_demo_data_and_everything_stays_readable(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var"), "REGISTER_DATABASE_URL": "", "REGISTER_KEY_DIR": ""}
    env = {k: v for k, v in env.items() if v}
    code, out = run(env, "demo", "--no-serve")
    assert code == 0, out
    assert f"{DEMO_RECORDS} invented records" in out and "demo-tokens.env" in out
    assert (tmp_path / "var" / "register.db").exists() and (tmp_path / "var" / "keys" / "kek.json").exists()
    ids = demo_records(
        tmp_path / "var" / "register.db",
        area="kent",
        nominal_type="rso",
        mappa_category=1,
        mappa_level=1,
        managing_unit="Maidstone MOSOVO",
    )
    assert len(ids) == 1
    code, out = run(env, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"]

    code, again = run(env, "demo", "--no-serve")  # a second run keeps the data and the keys
    assert code == 0 and f"{DEMO_RECORDS} invented records" in again
    assert (
        demo_records(
            tmp_path / "var" / "register.db",
            area="kent",
            nominal_type="rso",
            mappa_category=1,
            mappa_level=1,
            managing_unit="Maidstone MOSOVO",
        )
        == ids
    )

    code, shown = run(env, "show", ids[0], "--purpose", "training session")
    record = json.loads(shown)
    assert (
        code == 0
        and record["identity"]["surname"] == "Hartley"
        and record["sections"]["marks"][0]["location"] == "left_forearm"
    )

    code, out = run(env, "notification", "refresh")
    assert code == 0 and f"notification dates recomputed for {DEMO_RECORDS} records" in out
    code, out = run(env, "keys", "rotate")
    assert code == 0 and f"v2 is active; {DEMO_RECORDS} data keys re-wrapped" in out
    code, out = run(env, "reencrypt", "--all")
    assert code == 0 and f"{DEMO_RECORDS} records re-encrypted" in out
    code, out = run(env, "keys", "retire", "1")
    assert code == 0, out
    code, out = run(env, "keys", "status")
    assert "kek v1: retired, wraps 0" in out and f"kek v2: active, wraps {DEMO_RECORDS} " in out

    # the demo's two archived records without a legal hold (demo._load_casework) are due by then; the held one
    # is not; a dry run erases nothing
    code, out = run(env, "retention", "run", "--dry-run", "--today", "2200-01-01")
    assert (
        code == 0
        and "2 candidates in their disposal year, 2 due on 2200-01-01 (dry run: nothing erased)" in out
    )

    code, shown = run(env, "show", ids[0], "--purpose", "after rotation")
    assert code == 0 and json.loads(shown)["identity"]["surname"] == "Hartley"
    code, out = run(env, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["unsealed"] == 0 and report["sealed"] > 60


def test_commands_explain_what_is_wrong_instead_of_crashing(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var")}
    code, out = run(env, "audit", "verify")
    assert code == 1 and "no register schema: run `register db upgrade`" in out
    assert run(env, "db", "upgrade", "--revision", "0001")[0] == 0
    code, out = run(env, "audit", "verify")
    head = ScriptDirectory(str(Path(__file__).parents[2] / "migrations")).get_current_head()
    assert code == 1 and f"is at schema 0001, this register needs {head}: run `register db upgrade`" in out
    assert run(env, "db", "upgrade")[0] == 0
    code, out = run({**env, "REGISTER_ENVIRONMENT": "production"}, "audit", "verify")
    assert code == 1 and "not found" in out and "REGISTER_KEY_DIR" in out
    code, out = run(env, "show", "00000000-0000-0000-0000-000000000000", "--purpose", "x")
    assert code == 1 and "no nominal" in out
    code, out = run(env, "reencrypt")
    assert code == 2 and "--nominal" in out


def test_generating_into_sqlite_with_several_writers_is_refused_before_writing(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var")}
    assert run(env, "db", "upgrade")[0] == 0
    code, out = run(env, "generate", "--nominals", "20", "--workers", "2")
    assert code == 2 and "SQLite takes one writer at a time" in out, out
    code, out = run(env, "generate", "--nominals", "20", "--seed", "2")  # one writer by default on SQLite
    assert code == 0 and "20 people" in out, out


def test_duplicates_are_listed_for_an_area(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var")}
    assert run(env, "db", "upgrade")[0] == 0
    code, out = run(env, "generate", "--nominals", "120", "--seed", "4", "--today", "2026-11-22")
    assert code == 0 and "120 people" in out, out
    import datetime as dt

    from register.synthetic.people import PersonFactory

    people = [PersonFactory(4, dt.date(2026, 11, 22)).person(i) for i in range(120)]
    planted = next(p for p in people if p.duplicate_of is not None)
    area = planted.new.area.value
    code, out = run(env, "duplicates", "--area", area)
    assert code == 0 and f"suspected duplicate pairs touch {area}" in out
    listed = [line.split() for line in out.splitlines()[1:]]
    assert any(
        row[0] == "identifier" and {row[1], row[3]} == {str(planted.id), str(people[planted.duplicate_of].id)}
        for row in listed
    ), out
