"""Operators' view (issue #21): one structured log line per request that carries no personal data, and
Prometheus metrics at /metrics behind a bearer token."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from register.access.policy import Policy
from register.api.app import build_app, create_app
from register.api.observability import UNMATCHED, configure_logging
from register.bootstrap import build_verifier
from register.config import Settings
from register.domain.enums import Role
from register.store.store import Store
from tests.api.helpers import PERSON, Minter, add, auth, create

PURPOSE = "OP-KINGFISHER-77 sighting near a school"
QUERY_VALUE = "Hartley-in-the-query"
MARK = {"kind": "scar", "location": "face", "description": "over left eye"}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged at the production level (INFO), rendered as production renders it (JSON lines)."""
    root = logging.getLogger()
    level = root.level
    out = io.StringIO()
    handler = configure_logging("json", out)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


@pytest.mark.sqlite_only
def test_a_request_is_one_json_line_with_its_id_and_route_template_and_no_personal_data(
    client: TestClient, token: Minter, log_lines: io.StringIO
) -> None:
    nid, _ = create(client, token())
    essex = token(Role.READER, area="essex", user="essex.reader.7")
    r = client.get(
        f"/v1/nominals/{nid}",
        params={"note": QUERY_VALUE},
        headers=auth(essex, **{"X-Purpose": PURPOSE, "X-Request-ID": "req-observe-1"}),
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-request-id"] == "req-observe-1"

    records = _records(log_lines)  # every line is JSON: json.loads would have failed otherwise
    mine = [rec for rec in records if rec.get("request_id") == "req-observe-1"]
    assert len(mine) == 1, records
    line = mine[0]
    assert line["logger"] == "register.request"
    assert line["route"] == "/v1/nominals/{nominal_id}"
    assert (line["method"], line["status"], line["user_id"]) == ("GET", 200, "essex.reader.7")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert set(line) <= {
        "event", "level", "logger", "timestamp", "request_id", "user_id", "route", "method", "status",
        "duration_ms",
    }  # fmt: skip
    everything = log_lines.getvalue()
    for secret in (PURPOSE, "KINGFISHER", QUERY_VALUE, "note=", PERSON["identity"]["surname"], nid):
        assert secret not in everything, secret


@pytest.mark.sqlite_only
def test_a_malformed_request_id_is_replaced_and_every_request_gets_one(
    client: TestClient, log_lines: io.StringIO
) -> None:
    r = client.get("/health", headers={"X-Request-ID": "not a token; <script>"})
    given = r.headers["x-request-id"]
    assert given != "not a token; <script>" and re.fullmatch(r"[0-9a-f-]{36}", given)
    unmatched = client.get("/no/such/page/Hartley", params={"q": QUERY_VALUE})
    assert unmatched.status_code == 404
    lines = [rec for rec in _records(log_lines) if rec.get("logger") == "register.request"]
    assert [(rec["route"], rec["status"]) for rec in lines] == [("/health", 200), ("unmatched", 404)]
    assert lines[0]["request_id"] == given and lines[1]["request_id"]
    assert "Hartley" not in log_lines.getvalue() and QUERY_VALUE not in log_lines.getvalue()


@pytest.mark.sqlite_only
def test_an_unhandled_error_is_logged_once_with_its_stack_and_the_request_line_says_500(
    store: Store, settings: Settings, log_lines: io.StringIO
) -> None:
    app = build_app(settings, store)

    def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom, include_in_schema=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    records = _records(log_lines)
    stacks = [rec for rec in records if "kaboom" in str(rec.get("exception", ""))]
    assert len(stacks) == 1 and "Traceback" in str(stacks[0]["exception"])
    lines = [rec for rec in records if rec.get("route") == "/boom"]
    assert [rec["status"] for rec in lines] == [500]
    assert stacks[0]["request_id"] == lines[0]["request_id"]  # the stack is found from the request's id


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    seen = "\n".join(line for line in text.splitlines() if line.startswith(name))
    raise AssertionError(f"{name} {labels} not in the metrics:\n{seen}")


def test_metrics_need_the_token_and_show_requests_and_the_outbox(
    store: Store, settings: Settings, token: Minter
) -> None:
    secured = settings.model_copy(update={"metrics_token": "scrape-me-9f3a"})
    with TestClient(build_app(secured, store)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["rule"] == "metrics_token_required"
        assert client.get("/metrics", headers=auth("scrape-me-9f3b")).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Basic scrape-me-9f3a"}).status_code == 401

        def scrape() -> str:
            r = client.get("/metrics", headers=auth("scrape-me-9f3a"))
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            return r.text

        before = scrape()
        assert _metric(before, "register_database_up") == 1
        assert _metric(before, "register_refusals_total", status="401") == 3
        assert _metric(before, "register_outbox_pending") == 0
        nid, etag = create(client, token())
        add(client, token(), nid, "marks", MARK, etag)
        after = scrape()
        # no search index configured: nothing drains the outbox, so each change waits in it
        assert _metric(after, "register_outbox_pending") == 2
        assert _metric(after, "register_outbox_oldest_pending_age_seconds") >= 0
        assert _metric(after, "register_outbox_parked") == 0
        assert (
            _metric(
                after,
                "register_http_request_duration_seconds_count",
                route="/v1/nominals/{nominal_id}/marks",
                method="POST",
                status="201",
            )
            == 1
        )
        assert _metric(after, "register_data_keys", kek_version="1", state="active") == 1
        assert nid not in after and "Hartley" not in after
        schema = client.get("/openapi.json").json()
        assert "/metrics" not in schema["paths"]


@pytest.mark.sqlite_only
def test_without_a_token_metrics_are_open_in_development_and_absent_in_production(
    store: Store, settings: Settings
) -> None:
    with TestClient(build_app(settings, store)) as client:
        assert client.get("/metrics").status_code == 200
    # production's configuration checks (a real identity provider) are not what this is about: the flag is
    app = create_app(
        store,
        Policy.load(settings.policy_file),
        build_verifier(settings),
        max_body_bytes=settings.max_body_bytes,
        production=True,
        settings=settings,
    )
    with TestClient(app) as client:
        r = client.get("/metrics")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.sqlite_only
def test_web_pages_are_logged_with_the_signed_in_user_and_sign_ins_are_counted(
    client: TestClient, log_lines: io.StringIO
) -> None:
    form = client.get("/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    page = client.post(
        "/sign-in",
        data={"csrf_token": csrf.group(1), "next": "", "user": "kent.offender_manager"},
        follow_redirects=True,
    )
    assert page.status_code == 200
    lines = [
        (rec["method"], rec["route"], rec["status"], rec["user_id"])
        for rec in _records(log_lines)
        if rec.get("logger") == "register.request"
    ]
    assert lines[0] == ("GET", "/sign-in", 200, None)
    # the sign-in itself carries the user it signed in, and so does every page after it
    assert lines[1] == ("POST", "/sign-in", 303, "kent.offender_manager"), lines
    assert lines[2:] and all(
        user == "kent.offender_manager" and route != UNMATCHED for _, route, _, user in lines[2:]
    ), lines
    metrics = client.get("/metrics").text
    assert _metric(metrics, "register_sign_ins_total", method="development", outcome="success") == 1
    assert "csrf" not in log_lines.getvalue().lower()


def test_the_log_is_written_once_in_one_format_after_migrations_configured_logging(tmp_path: Path) -> None:
    """`register demo` migrates (alembic.ini installs a plain console handler on the root logger) and then
    serves in the same process: every line must still come out once, as JSON."""
    script = (
        "import logging\n"
        "from register.config import Settings\n"
        "from register.store.open import migrate\n"
        "from register.api.observability import configure_logging\n"
        f"migrate(Settings(var_dir={str(tmp_path)!r}))\n"
        "configure_logging('auto')\n"
        "logging.getLogger('register.test').warning('only once')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "only once" in line]
    assert len(lines) == 1 and json.loads(lines[0])["event"] == "only once", done.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("fmt", "terminal", "as_json"),
    [("auto", True, False), ("auto", False, True), ("json", True, True), ("console", False, False)],
)
def test_a_terminal_gets_readable_lines_unless_the_format_is_set(
    client: TestClient, fmt: str, terminal: bool, as_json: bool
) -> None:
    root, level = logging.getLogger(), logging.getLogger().level
    stream = _Terminal() if terminal else io.StringIO()
    handler = configure_logging(fmt, stream)
    try:
        client.get("/health", headers={"X-Request-ID": "fmt-1"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    last = stream.getvalue().splitlines()[-1]
    if as_json:
        assert json.loads(last)["request_id"] == "fmt-1"
    else:
        assert "request_id=fmt-1" in last and "route=/health" in last and not last.startswith("{")


@pytest.mark.sqlite_only
def test_every_alert_is_about_a_metric_the_register_exposes(store: Store, settings: Settings) -> None:
    """An alert on a metric that does not exist never fires: each `register_*` name in the deploy files' alert
    rules (deploy/prometheus/alerts.yml) is in what /metrics serves, counting a histogram's series."""
    import yaml

    from register.config import PROJECT_ROOT

    rules = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    named = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\bregister_[a-z_]+", rule["expr"])
    }
    with TestClient(build_app(settings, store)) as client:
        client.get("/health")  # one request, so the request histogram has series
        assert client.get("/v1/me").status_code == 401  # and one refusal, so the refusals counter has one
        exposition = client.get("/metrics").text
    # every family the register declares (even one with no series yet: no refusal, no anchor, no quality run),
    # under the names Prometheus stores its series by
    suffixes = {"counter": ["", "_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    exposed = {
        name + suffix
        for name, kind in re.findall(r"^# TYPE (register_[a-z_]+) (\w+)$", exposition, re.M)
        for suffix in suffixes.get(kind, [""])
    }
    assert len(named) >= 8 and named <= exposed, named - exposed
