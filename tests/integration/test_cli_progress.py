"""Long commands show their progress with counts, a rate and the time left (issue #21): a bar in a terminal,
plain lines every REGISTER_PROGRESS_EVERY_SECONDS otherwise; and a command's result is there as JSON too."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

from click.testing import CliRunner

from register.cli import main, progress_echo

LINE = re.compile(
    r"^generating people: (\d+)/60 \((\d+)%\), (\d+\.\d)/s, (ETA \d+:\d\d:\d\d|ETA unknown|done in .*)$"
)


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_long_command_off_a_terminal_logs_counts_a_rate_and_an_eta(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var"), "REGISTER_PROGRESS_EVERY_SECONDS": "0"}
    assert run(env, "db", "upgrade")[0] == 0
    code, out, err = run(env, "generate", "--nominals", "60", "--batch", "10", "--seed", "3", "--json")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("generating people")]
    assert all(LINE.match(line) for line in lines), lines
    assert "\r" not in err  # lines for a log, not a terminal's redrawn bar
    during = [LINE.match(line) for line in lines[1:-1]]  # after the first batch, before the last
    assert during and all(m and re.match(r"ETA \d", m[4]) and float(m[3]) > 0 for m in during), lines
    assert lines[-1].startswith("generating people: 60/60 (100%)") and "done in" in lines[-1]
    result = json.loads(out)  # the result, and nothing else, on standard output
    assert result["people"] == 60 and result["people_per_second"] > 0

    # The human lines come from the same result object.
    code, out, _ = run(env, "notification", "refresh", "--json")
    assert code == 0 and json.loads(out) == {"records": 60}
    code, out, _ = run(env, "notification", "refresh")
    assert code == 0 and out.strip() == "notification dates recomputed for 60 records"


def test_off_a_terminal_progress_lines_are_spaced_by_the_interval() -> None:
    out = io.StringIO()
    show = progress_echo("sweeping", every=3600, stream=out)
    for done in range(0, 101, 10):
        show(done, 100)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("sweeping: 0/100 (0%)")
    assert lines[1].startswith("sweeping: 100/100 (100%)")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_terminal_a_bar_shows_position_rate_and_eta() -> None:
    out = _Terminal()
    show = progress_echo("re-wrapping data keys", stream=out)
    for done in (0, 25, 50, 100):
        show(done, 100)
        time.sleep(0.01)
    text = out.getvalue()
    assert "re-wrapping data keys" in text and "50/100" in text and "100/100" in text
    assert re.search(r"\d+\.\d/s, ETA \d+:\d\d:\d\d", text), text


def test_commands_print_their_results_as_json(tmp_path: Path) -> None:
    env = {"REGISTER_VAR_DIR": str(tmp_path / "var")}
    assert run(env, "db", "upgrade")[0] == 0
    code, out, _ = run(env, "keys", "status", "--json")
    assert code == 0 and json.loads(out) == {
        "versions": [{"version": "1", "state": "active", "data_keys": 0}]
    }
    code, out, _ = run(env, "keys", "status")
    assert code == 0 and out.strip() == "kek v1: active, wraps 0 data keys"
    code, out, _ = run(env, "retention", "run", "--dry-run", "--today", "2026-11-30", "--json")
    assert code == 0 and json.loads(out) == {
        "today": "2026-11-30", "candidates": 0, "due": [], "erased": 0, "dry_run": True
    }  # fmt: skip
    code, out, _ = run(env, "duplicates", "--area", "kent", "--json")
    assert code == 0 and json.loads(out) == {"area": "kent", "total": 0, "pairs": []}
    code, out, _ = run(env, "audit", "seal", "--json")
    sealed = json.loads(out)
    assert code == 0 and sealed["refused"] == [] and sealed["anchor_error"] is None
    code, out, _ = run(env, "tokens", "rebuild", "--json")
    assert code == 0 and json.loads(out) == {"records": 0}
