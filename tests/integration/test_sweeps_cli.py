"""`register quality --all-areas` and `register stats --all-areas`: every area in one pass, with progress, the
same figures as one area at a time, and refused together with --area (issue #20 point 4)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from register.cli import main
from register.domain.enums import Area
from register.store import models as m


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_every_area_in_one_pass_from_the_command_line(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var"), "REGISTER_PROGRESS_EVERY_SECONDS": "0"}
    assert run(env, "db", "upgrade")[0] == 0
    assert run(env, "generate", "--nominals", "60", "--seed", "5")[0] == 0

    assert run(env, "quality")[0] == 2  # neither
    code, _, err = run(env, "quality", "--area", "kent", "--all-areas")
    assert code == 2 and "not both" in err
    code, out, err = run(env, "quality", "--all-areas", "--json")
    assert code == 0, err
    boards = json.loads(out)
    assert set(boards) == {a.value for a in Area} and all(b["run"] for b in boards.values())
    assert "running rules:" in err and "done in" in err.splitlines()[-1]
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'register.db'}")
    try:
        with engine.connect() as conn:
            areas = sorted(conn.scalars(select(m.Nominal.area).distinct()))
            audited = conn.scalar(select(func.count()).where(m.AuditEvent.tag == "quality:run:execute"))
    finally:
        engine.dispose()
    assert audited == len(Area)  # each area's run audited
    # One area alone afterwards finds what the pass found for it: no rule's count changes.
    code, out, _ = run(env, "quality", "--area", areas[0], "--json")
    assert code == 0 and all(row["change"] == 0 for row in json.loads(out)["rules"])
    assert json.loads(out)["rules"] == [{**row, "change": 0} for row in boards[areas[0]]["rules"]]
    code, out, _ = run(env, "quality", "--all-areas")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["area", "high", "medium", "low"]

    today = dt.date.today()
    year = today.year + 1 if today > dt.date(today.year, 3, 31) else today.year
    code, out, err = run(env, "stats", "--all-areas", "--year", str(year))
    assert code == 0, err
    every = json.loads(out)
    assert set(every) == {a.value for a in Area} and "computing tables:" in err
    for area in areas:
        code, alone, _ = run(env, "stats", "--area", area, "--year", str(year))
        assert code == 0 and json.loads(alone) == every[area], area
    code, out, _ = run(env, "stats", "--all-areas", "--year", str(year), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["area"] for r in rows} <= set(areas) and out.count("area,year,table") == 1
    code, _, err = run(env, "stats", "--all-areas", "--year", str(year), "--format", "html")
    assert code == 2
