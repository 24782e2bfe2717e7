"""Lint, formatting, types and the layers' import contract are part of the test command (issue #13): each tool
runs from this environment over the configuration in pyproject.toml, and its output is the failure message."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["src", "tests", "deploy", "scripts"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_ruff_finds_nothing() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "--no-cache", *PATHS)
    assert result.returncode == 0, output(result)


def test_the_code_is_formatted() -> None:
    result = run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *PATHS)
    assert result.returncode == 0, output(result)


def test_mypy_passes() -> None:
    # The files, plugins and per-module strictness are in pyproject.toml ([tool.mypy]).
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, output(result)


def test_the_layers_keep_their_import_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text()).get("tool", {}).get("importlinter", {})
    assert config.get("contracts"), (
        "no import contract configured: add one to [tool.importlinter] in pyproject.toml"
    )
    # The entry point installed beside this interpreter, so the contract is checked in this environment.
    result = run(str(Path(sys.executable).parent / "lint-imports"), "--no-cache")
    assert result.returncode == 0, output(result)
