"""The README's first command, as a newcomer runs it: `make demo` in a fresh copy of the repository.

It creates its own virtual environment with the base install only (pip's and npm's caches may be used, nothing
from this suite's environment), installs the web assets with `npm ci`, loads the demo and serves it. The test
then uses the register as the quick start says: the front door, the API documentation, the health page, and
one API call with a demo user's token. If any import on the demo's path needs an extra the demo does not
install, the demo dies and this test fails.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from register.config import PROJECT_ROOT

pytestmark = pytest.mark.sqlite_only  # runs no database of its own: it starts the demo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_copy(target: Path) -> Path:
    """The files a clone would have (tracked, plus new ones not ignored), as they are in the working tree."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def newcomer_environment() -> dict[str, str]:
    """The machine's environment without this suite's virtual environment or the register's settings."""
    venv = str(PROJECT_ROOT / ".venv")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REGISTER_", "PYTEST", "VIRTUAL_ENV", "PYTHON"))
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv))
    return env


@pytest.fixture
def make_demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    clone = fresh_copy(tmp_path / "register")
    port = free_port()
    log_path = tmp_path / "make-demo.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["make", "demo", f"ARGS=--port {port}"],
            cwd=clone,
            env=newcomer_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        started = time.monotonic()
        try:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"make demo exited with {proc.returncode}:\n{log_path.read_text()}")
                if time.monotonic() - started > 600:
                    pytest.fail(f"make demo did not serve within 10 minutes:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(1)
            yield clone, f"http://127.0.0.1:{port}", log_path
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def tokens(env_file: Path) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines() if line)
    return dict(pairs)  # type: ignore[arg-type]


def test_make_demo_on_a_fresh_copy_serves_the_front_door_the_docs_and_the_api(make_demo) -> None:  # type: ignore[no-untyped-def]
    clone, url, log_path = make_demo
    # the base install only: the demo runs without the PostgreSQL driver or the Elasticsearch client
    for extra in ("elasticsearch", "psycopg", "pytest"):
        found = subprocess.run(
            [str(clone / ".venv/bin/python"), "-c", f"import {extra}"], capture_output=True
        )
        assert found.returncode != 0, f"make demo installed {extra}, which the embedded default does not need"

    front = httpx.get(url + "/")
    assert front.status_code == 200 and "The register" in front.text
    assert 'href="/docs"' in front.text and "var/demo-tokens.env" in front.text
    docs = httpx.get(url + "/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle-" in docs.text
    script = docs.text.split('src="')[1].split('"')[0]
    assert httpx.get(url + script).status_code == 200  # the npm-installed assets were built and are served
    assert httpx.get(url + "/health").json() == {"status": "ok"}

    env_file = clone / "var" / "demo-tokens.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    demo_tokens = tokens(env_file)
    me = httpx.get(
        url + "/v1/me", headers={"Authorization": f"Bearer {demo_tokens['KENT_OFFENDER_MANAGER']}"}
    )
    assert me.status_code == 200 and me.json()["area"] == "kent"
    caseload = httpx.get(
        url + "/v1/nominals",
        params={"scope": "caseload"},
        headers={"Authorization": f"Bearer {demo_tokens['KENT_OFFENDER_MANAGER']}"},
    )
    assert caseload.status_code == 200 and caseload.json()["items"]

    # the README's web path on the base install: the development sign-in, then the offender manager's caseload
    # with a photograph thumbnail (the session, the forms and Pillow's portraits all work without an extra)
    with httpx.Client(base_url=url) as browser:
        form = browser.get("/sign-in")
        assert form.status_code == 200 and "Demo Offender Manager Kent Police" in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        signed_in = browser.post(
            "/sign-in",
            data={"csrf_token": csrf.group(1), "next": "", "user": "kent.offender_manager"},
            follow_redirects=True,
        )
        assert signed_in.status_code == 200 and "My caseload" in signed_in.text
        thumbnail = re.search(r'src="(/records/[^"]+/photographs/current/thumbnail)"', signed_in.text)
        assert thumbnail is not None, "no caseload thumbnail: the demo's portraits were not loaded"
        image = browser.get(thumbnail.group(1))
        assert image.status_code == 200 and image.headers["content-type"] in ("image/jpeg", "image/png")

    # one short block: where to go, where the tokens are, how to stop and reset; no token in the terminal
    printed = log_path.read_text()
    banner = printed[printed.index("The register (embedded default") :]
    assert (
        url + "/" in banner and "var/demo-tokens.env" in banner and "Ctrl-C" in banner and "--reset" in banner
    )
    assert "eyJ" not in printed
    assert len(banner.strip().splitlines()) <= 12
