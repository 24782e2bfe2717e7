"""The README's curl session works as printed, against `register demo` serving on a real port."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from register.config import PROJECT_ROOT


def readme_session() -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text[text.index("### A session with the API") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "REGISTER_VAR_DIR": str(tmp_path / "var")}
    env.pop("REGISTER_DATABASE_URL", None)
    register = str(Path(sys.executable).parent / "register")
    log_path = tmp_path / "demo.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [register, "demo", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            if proc.poll() is not None:
                pytest.fail(f"register demo exited: {log_path.read_text()}")
        else:
            pytest.fail("register demo did not become ready")
        yield port, tmp_path
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def test_the_readme_curl_session_works_as_printed(demo_server) -> None:  # type: ignore[no-untyped-def]
    assert shutil.which("curl"), "curl is needed to run the README's session"
    port, cwd = demo_server
    script = readme_session().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # each curl prints one JSON document; read them in order
    decoder, out, docs, i = json.JSONDecoder(), result.stdout, [], 0
    while i < len(out):
        if out[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(out, i)
        docs.append(doc)
    (
        caseload,
        vehicles,
        no_etag,
        stale,
        appended,
        invalid,
        police_intel,
        probation_intel,
        no_purpose,
        identity,
        stub,
        found,
        police_text,
        probation_text,
        audit,
    ) = docs
    assert "Hartley" in [i["surname"] for i in caseload["items"]]
    assert vehicles["items"][0]["data"]["vrm"] == "GK19XBW"
    assert no_etag["status"] == 428 and stale["status"] == 412 and stale["rule"] == "version_stale"
    assert set(appended) == {"id", "version"}
    assert invalid["status"] == 422 and {"field": "body.date_to", "rule": "dates_in_order"} in [
        {k: e[k] for k in ("field", "rule")} for e in invalid["errors"]
    ]
    assert len(police_intel["items"]) == 1 and probation_intel["items"] == []
    assert no_purpose["rule"] == "purpose_required" and identity["identity"]["surname"] == "Hartley"
    assert stub == {
        "id": stub["id"],
        "restricted": True,
        "owning_area": "kent",
        "message": "restricted record: contact the owning area",
    }
    assert found["total"] == 1 and found["hits"][0]["surname"] == "Hartley" and found["backend"] == "sql"
    # free text over police-only intelligence: the police investigator finds Hartley, probation no one at all
    assert [h["surname"] for h in police_text["hits"]] == ["Hartley"]
    assert probation_text["total"] == 0 and probation_text["hits"] == []
    assert [e["tag"] for e in audit["events"]][:1] == ["nominal:record:create"]
