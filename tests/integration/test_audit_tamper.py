"""Issue #17 F5: tamper evidence an operator with database rights but not the keys cannot get past.

Each event carries a MAC made by the application when it is written, so a row inserted or edited by hand is
refused by the sealer and named by `verify`; the chain's head is anchored outside the database at intervals,
so a truncated tail, an emptied table or a rewritten (re-sealed) chain is named too. Every test runs on SQLite
and PostgreSQL; `tamper` plays the operator who gets past the append-only triggers (see test_audit_log.py).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from register.cli import main
from register.config import Settings
from register.store.open import build_store
from register.store.store import Store
from tests.integration.test_audit_log import populate, tamper, verify_cli


@pytest.fixture
def settings(fresh_database: str, tmp_path: Path) -> Settings:
    """Anchor after every sealing run, so any cut of the tail is behind an anchor."""
    return Settings(
        database_url=fresh_database,
        var_dir=tmp_path / "var",
        key_dir=tmp_path / "keys",
        audit_anchor_every_events=1,
    )


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def anchor_file(settings: Settings) -> Path:
    return settings.var_dir / "audit-anchors.jsonl"


def insert_by_hand(store: Store, copy_of: int, *, with_mac: bool = False) -> None:
    """Someone with INSERT on audit_event adds a plausible event: a copy of a genuine one under a new event id
    (with_mac: its MAC copied too, a replay)."""
    columns = (
        "occurred_at, action, tag, outcome, actor_user, actor_agency, actor_area, actor_roles, nominal_id, "
        "section, "
        "item_id, purpose, request_id, details" + (", mac" if with_mac else "")
    )
    new_id = "CAST(:id AS uuid)" if store.engine.dialect.name == "postgresql" else ":id"
    with store.engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO audit_event (event_id, {columns}) SELECT {new_id}, {columns} FROM audit_event "
                "WHERE seq = :seq"
            ),
            {"id": uuid.uuid4().hex, "seq": copy_of},
        )


# ------------------------------------------------------------------ events authenticated when written


def test_an_event_inserted_by_hand_fails_verify_before_sealing_and_is_never_sealed(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store.seal_after_commit = False
    populate(store, 1)  # seq 1..3, committed, not yet sealed
    insert_by_hand(store, copy_of=2)  # seq 4
    code, out = verify_cli(settings)
    assert code == 1 and "INSERTED: event seq 4" in out and "intact" not in out

    with caplog.at_level(logging.ERROR, logger="register"):
        assert store.seal_audit() == 3  # the genuine ones
    assert "refused to seal audit event seq 4" in caplog.text
    populate(store, 1)  # later events are still sealed after it
    assert store.seal_audit() == 3
    code, out = verify_cli(settings)
    assert code == 1 and "INSERTED: event seq 4" in out and "6 events sealed" in out and "TAMPERED" in out

    code, out = cli(settings, "audit", "seal")
    assert code == 1 and "refused" in out and "seq 4" in out


def test_a_genuine_event_replayed_with_its_mac_is_refused(store: Store, settings: Settings) -> None:
    store.seal_after_commit = False
    populate(store, 1)
    insert_by_hand(store, copy_of=2, with_mac=True)
    assert store.seal_audit() == 3
    code, out = verify_cli(settings)
    assert code == 1 and "UNAUTHENTICATED: event seq 4" in out


def test_an_event_edited_before_sealing_is_named_and_not_sealed(store: Store, settings: Settings) -> None:
    store.seal_after_commit = False
    populate(store, 1)
    tamper(store, "UPDATE audit_event SET purpose = 'routine' WHERE seq = 2")
    code, out = verify_cli(settings)
    assert code == 1 and "UNAUTHENTICATED: event seq 2" in out and "intact" not in out
    assert store.seal_audit() == 2
    code, out = verify_cli(settings)
    assert code == 1 and "UNAUTHENTICATED: event seq 2" in out


def test_events_awaiting_sealing_with_good_macs_are_not_a_finding(store: Store, settings: Settings) -> None:
    store.seal_after_commit = False
    populate(store, 1)
    code, out = verify_cli(settings)
    assert code == 0 and "3 awaiting sealing" in out and "intact" in out


def test_authentic_events_moved_to_other_positions_are_named_reordered(
    store: Store, settings: Settings
) -> None:
    populate(store)
    tamper(
        store,
        "UPDATE audit_event SET seq = 1007 WHERE seq = 7",
        "UPDATE audit_event SET seq = 7 WHERE seq = 8",
        "UPDATE audit_event SET seq = 8 WHERE seq = 1007",
    )
    code, out = verify_cli(settings)
    assert (
        code == 1
        and "REORDERED: event seq 7 (chain position 7)" in out
        and "REORDERED: event seq 8 (chain position 8)" in out
    )


# ------------------------------------------------------------------ the head anchored outside the database


def test_anchors_are_signed_json_lines_in_a_private_file(store: Store, settings: Settings) -> None:
    populate(store, 1)
    path = anchor_file(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    anchors = [json.loads(line) for line in path.read_text().splitlines()]
    assert (
        anchors
        and anchors[-1]["position"] == 3
        and {"position", "event_seq", "digest", "at", "mac"} <= set(anchors[-1])
    )


def test_anchors_are_written_every_n_sealed_events_and_by_audit_seal(settings: Settings) -> None:
    spaced = settings.model_copy(update={"audit_anchor_every_events": 3, "audit_anchor_every_seconds": 3600})
    store = build_store(spaced)
    try:
        populate(store)  # commits of 2, 1, 2, 1, 2, 1 events: heads 2, 3, 5, 6, 8, 9
    finally:
        store.dispose()
    positions = [json.loads(line)["position"] for line in anchor_file(settings).read_text().splitlines()]
    assert positions == [2, 5, 8]  # the first sealing run anchors at once, then every 3 events
    code, out = cli(settings, "audit", "seal")
    assert code == 0 and "anchored at position 9" in out
    assert json.loads(anchor_file(settings).read_text().splitlines()[-1])["position"] == 9


def test_a_truncated_tail_is_named(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(store, "DELETE FROM audit_seal WHERE position > 6", "DELETE FROM audit_event WHERE seq > 6")
    code, out = verify_cli(settings)
    assert code == 1 and "TRUNCATED: the chain ends at position 6 but an anchor records position 9" in out
    assert "first broken: chain position 7" in out


def test_an_emptied_audit_log_is_named(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(store, "DELETE FROM audit_seal", "DELETE FROM audit_event")
    code, out = verify_cli(settings)
    assert code == 1 and "EMPTIED: the audit log is empty but an anchor records position 9" in out


def test_a_rewritten_and_resealed_chain_is_named(store: Store, settings: Settings) -> None:
    populate(store)
    # cut event 5 out, then let the sealer seal the rest again at new positions, and carry on past the last
    # anchor
    tamper(store, "DELETE FROM audit_seal WHERE position >= 5", "DELETE FROM audit_event WHERE seq = 5")
    assert store.seal_audit() == 4
    populate(store, 1)
    code, out = verify_cli(settings)
    assert (
        code == 1
        and "REWRITTEN: chain position 5 does not match its anchor" in out
        and "first broken: chain position 5" in out
    )


def test_a_forged_anchor_is_named(store: Store, settings: Settings) -> None:
    populate(store, 1)
    path = anchor_file(settings)
    forged = json.loads(path.read_text().splitlines()[-1]) | {"position": 40}
    with path.open("a") as fh:
        fh.write(json.dumps(forged) + "\n")
    code, out = verify_cli(settings)
    assert code == 1 and "BAD_ANCHOR" in out and "TRUNCATED" not in out  # an unsigned claim proves nothing
    restarted = build_store(
        settings
    )  # nor does it stop a sealer that reads the anchors afresh from anchoring
    try:
        populate(restarted, 1)
    finally:
        restarted.dispose()
    assert json.loads(path.read_text().splitlines()[-1])["position"] == 6


def test_lost_anchors_are_named(store: Store, settings: Settings) -> None:
    populate(store, 1)
    anchor_file(settings).unlink()
    code, out = verify_cli(settings)
    assert code == 1 and "UNANCHORED" in out


def test_json_report_names_the_findings_and_the_first_broken_event(store: Store, settings: Settings) -> None:
    populate(store)
    tamper(
        store,
        "UPDATE audit_event SET purpose = 'routine' WHERE seq = 3",
        "DELETE FROM audit_seal WHERE position > 6",
        "DELETE FROM audit_event WHERE seq > 6",
    )
    code, out = cli(settings, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert {p["kind"] for p in report["problems"]} == {"modified", "truncated"}
    assert report["first_broken"] == {"position": 3, "seq": 3, "kind": "modified"}
    assert report["anchors"]["count"] >= 1 and report["anchors"]["latest"]["position"] == 9


def test_anchors_are_written_every_t_seconds_when_the_head_moved(settings: Settings) -> None:
    timed = settings.model_copy(update={"audit_anchor_every_events": 10**6, "audit_anchor_every_seconds": 0})
    store = build_store(timed)
    try:
        populate(store, 1)  # commits of 2 and 1 events
        store.seal_audit()  # the head did not move: no anchor
    finally:
        store.dispose()
    assert [json.loads(line)["position"] for line in anchor_file(settings).read_text().splitlines()] == [2, 3]


def test_the_api_anchors_the_head_when_it_shuts_down(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from register.api.app import build_app

    rarely = settings.model_copy(
        update={"audit_anchor_every_events": 10**6, "audit_anchor_every_seconds": 10**6}
    )
    store = build_store(rarely)
    try:
        populate(store, 1)  # the first sealing run anchors at once: position 2
        with TestClient(build_app(rarely, store)):
            populate(store, 1)  # sealed by the API's background sealer, no anchor due
        assert store.verify_audit().ok
    finally:
        store.dispose()
    assert [json.loads(line)["position"] for line in anchor_file(settings).read_text().splitlines()] == [2, 6]


@pytest.mark.sqlite_only
def test_an_anchor_store_that_fails_is_reported_and_retried_not_hammered(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        description = "a read-only volume"
        calls = 0

        def append(self, anchor) -> None:  # type: ignore[no-untyped-def]
            Broken.calls += 1
            raise OSError("read-only file system")

        def read(self):  # type: ignore[no-untyped-def]
            return iter(())

        def recent(self) -> list:
            return []

    store.anchors = Broken()
    with caplog.at_level(logging.ERROR, logger="register"):
        populate(store, 1)  # two commits, each followed by sealing: one attempt, then a pause
    assert (
        Broken.calls == 1
        and caplog.text.count("anchoring the audit chain head to a read-only volume failed") == 1
    )
    code, out = cli(settings, "audit", "seal")  # the command, with the configured file, anchors and says so
    assert code == 0 and "anchored at position 3" in out
