"""The local test servers' launchers, in what can be checked without starting a server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from register.config import PROJECT_ROOT

LOCAL = PROJECT_ROOT / "deploy" / "local"


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def test_the_keycloak_watchdog_stops_the_server_when_the_process_that_started_it_is_killed(
    tmp_path: Path,
) -> None:
    """A test run killed with SIGKILL runs no `finally`: the watchdog still stops Keycloak and removes its
    files."""
    base = tmp_path / "server"
    base.mkdir()
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"""
import subprocess, sys, time
sys.path.insert(0, {str(LOCAL)!r})
from pathlib import Path
from keycloak import start_watchdog
server = subprocess.Popen(["sleep", "600"], start_new_session=True)  # stands in for kc.sh and its JVM
start_watchdog(server.pid, Path({str(base)!r}))
print(server.pid, flush=True)
time.sleep(600)
""",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    server = int(starter.stdout.readline())
    assert _state(server) not in (None, "Z")
    starter.kill()
    starter.wait()
    starter.stdout.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (_state(server) not in (None, "Z") or base.exists()):
        time.sleep(0.2)
    assert _state(server) in (None, "Z"), "the server outlived the process that started it"
    assert not base.exists()
