"""Key rotation while the register runs (issue #17, F7): every process picks up a changed keyring without a
restart, nothing is ever wrapped under a retiring or retired version, a retirement waits for data keys being
written, a second rotation after a retirement works, and the key files are private (F6)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import stat
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from register.access.tokens import DEV_KEY_FILE, ensure_dev_signing_key
from register.api.app import build_app
from register.cli import main
from register.config import Settings
from register.crypto.keys import KeyMismatch, KeyNotAvailable, KeyProblem, KeySet, LocalKeyring
from register.domain.actors import SystemActor
from register.keys import service as keys_service
from register.store import models as m
from register.store.open import build_store
from register.store.store import Store
from tests.api.helpers import running_api
from tests.conftest import Minter
from tests.factories import create

PERSON = {
    "nominal_type": "rso",
    "area": "kent",
    "managing_unit": "Maidstone MOSOVO",
    "lead_agency": "police",
    "mappa_category": 1,
    "mappa_level": 1,
    "identity": {
        "forenames": "Daniel",
        "surname": "Hartley",
        "date_of_birth": "1984-03-17",
        "gender": "male",
    },
}


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    """A `register` command as an operator runs it: its own settings, its own store, the same database and key
    dir."""
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
        "REGISTER_VAR_DIR": str(settings.var_dir),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def versions_in_use(store: Store) -> dict[str, int]:
    with store.session_factory() as s:
        return {
            v: n
            for v, n in s.execute(select(m.DataKey.kek_version, func.count()).group_by(m.DataKey.kek_version))
        }


def read_everything_after_a_restart(settings: Settings, ids: list[str], bearer: str) -> dict[str, int]:
    """A new process on the same database and key dir reads every record: the status codes it answers."""
    fresh = build_store(settings)
    try:
        with TestClient(build_app(settings, fresh)) as c:
            return {
                i: c.get(f"/v1/nominals/{i}", headers={"Authorization": f"Bearer {bearer}"}).status_code
                for i in ids
            }
    finally:
        fresh.dispose()


def test_rotate_rewrap_and_retire_under_a_running_api_with_writes_in_flight(
    store: Store, settings: Settings, token: Minter
) -> None:
    om = token()
    headers = {"Authorization": f"Bearer {om}"}
    created: list[str] = []
    answers: list[
        tuple[str, int, str]
    ] = []  # (what, status, body) of every request made while the keys changed
    stop = threading.Event()
    lock = threading.Lock()

    def writer(base: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            while not stop.is_set():
                r = c.post("/v1/nominals", json=PERSON, headers=headers)
                with lock:
                    answers.append(("create", r.status_code, r.text[:300]))
                    if r.status_code == 201:
                        created.append(r.json()["id"])
                    earlier = created[secrets.randbelow(len(created))] if created else None
                if earlier:
                    r = c.get(f"/v1/nominals/{earlier}", headers=headers)
                    with lock:
                        answers.append(("read", r.status_code, r.text[:300]))

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 60
        while True:
            with lock:
                if len(created) >= n:
                    return
            assert time.monotonic() < deadline, f"writes stalled: {answers[-3:]}"
            time.sleep(0.02)

    with running_api(settings, store) as base:
        writers = [threading.Thread(target=writer, args=(base,)) for _ in range(2)]
        for w in writers:
            w.start()
        try:
            wait_for(6)
            code, out = cli(settings, "keys", "rotate")
            assert code == 0 and "v2 is active" in out, out
            wait_for(len(created) + 4)  # the API keeps writing and reading after the rotation
            # A write that read the old version before the rotation may still land: rewrap, retire again
            for _ in range(5):
                code, out = cli(settings, "keys", "rewrap")
                assert code == 0, out
                code, out = cli(settings, "keys", "retire", "1")
                if code == 0:
                    break
                assert "still wrapped under version 1" in out, out
            assert code == 0, out
            wait_for(len(created) + 6)  # and after the retirement
        finally:
            stop.set()
            for w in writers:
                w.join(60)
    unavailable = [a for a in answers if a[1] == 503]
    assert not unavailable, (
        f"{len(unavailable)} of {len(answers)} requests answered 503 while the keys changed: "
        f"{unavailable[:3]}"
    )
    assert all(status in (200, 201) for _, status, _ in answers), [
        a for a in answers if a[1] not in (200, 201)
    ][:3]
    assert versions_in_use(store) == {"2": len(created)}
    code, out = cli(settings, "keys", "status")
    assert "kek v1: retired, wraps 0" in out and f"kek v2: active, wraps {len(created)}" in out, out

    store.dispose()  # the restart
    statuses = read_everything_after_a_restart(settings, created, om)
    assert set(statuses.values()) == {200}, {i: s for i, s in statuses.items() if s != 200}


def test_a_second_rotation_after_a_retirement_under_a_running_api(
    store: Store, settings: Settings, token: Minter
) -> None:
    om = token()
    headers = {"Authorization": f"Bearer {om}"}
    ids: list[str] = []
    with TestClient(build_app(settings, store)) as api:  # the running API; the commands run beside it

        def write_and_read_all() -> None:
            r = api.post("/v1/nominals", json=PERSON, headers=headers)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            assert {
                i: api.get(f"/v1/nominals/{i}", headers=headers).status_code for i in ids
            } == dict.fromkeys(ids, 200)

        write_and_read_all()
        assert cli(settings, "keys", "rotate")[0] == 0
        write_and_read_all()
        code, out = cli(settings, "keys", "retire", "1")
        assert code == 0, out
        write_and_read_all()  # the API must not wrap this record's data key under the retired version 1
        assert "1" not in versions_in_use(store)
        code, out = cli(settings, "keys", "rotate")
        assert code == 0 and f"v3 is active; {len(ids)} data keys re-wrapped" in out, out
        write_and_read_all()
        code, out = cli(settings, "keys", "retire", "2")
        assert code == 0, out
        write_and_read_all()
    assert versions_in_use(store) == {"3": len(ids)}
    store.dispose()
    assert set(read_everything_after_a_restart(settings, ids, om).values()) == {200}


def test_a_retirement_waits_for_a_data_key_being_written_under_that_version(
    store: Store, settings: Settings
) -> None:
    outcome: list[BaseException | None] = []
    # A write in flight: its data key is wrapped under version 1, not yet committed
    with store.unit_of_work() as uow:
        nid = create(uow)
        assert versions_in_use(store) == {}
        # another process rotates the keyring meanwhile (no committed data key to move yet)
        assert LocalKeyring(settings.resolved_key_dir / LocalKeyring.FILE).add_version() == "2"

        def retire() -> None:
            try:
                keys_service.retire(store, SystemActor("test"), "1")
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - examined below
                outcome.append(exc)

        retiring = threading.Thread(target=retire)
        retiring.start()
        time.sleep(0.5)
        assert retiring.is_alive() or outcome, "the retirement finished"
    retiring.join(60)
    assert (
        outcome and isinstance(outcome[0], ValueError) and "still wrapped under version 1" in str(outcome[0])
    ), outcome
    assert versions_in_use(store) == {"1": 1}
    assert keys_service.rewrap_data_keys(store, SystemActor("test")) == 1
    keys_service.retire(store, SystemActor("test"), "1")
    fresh = build_store(settings)
    try:
        with fresh.unit_of_work() as uow:
            assert uow.nominals.load(nid).identity.surname
    finally:
        fresh.dispose()


def test_a_running_process_picks_up_a_changed_keyring_and_never_wraps_under_a_retiring_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys" / LocalKeyring.FILE
    running = LocalKeyring.create(path)
    operator = LocalKeyring(path)
    version, wrapped = running.wrap(b"k" * 32, b"ctx")
    assert version == "1"
    assert operator.add_version() == "2"
    assert running.active_version() == "2" and running.versions() == ["1", "2"]
    assert running.wrap(b"k" * 32, b"ctx")[0] == "2"
    v3 = [operator.add_version() for _ in range(3)][
        -1
    ]  # several changes within one timestamp tick are all seen
    assert running.active_version() == v3 == "5"
    operator.mark_retiring("1")
    assert running.state("1") == "retiring" and running.unwrap("1", wrapped, b"ctx") == b"k" * 32
    with pytest.raises(Exception, match="active"):
        operator.mark_retiring("5")


def test_rewrap_repairs_a_data_key_left_under_a_retired_version(store: Store, settings: Settings) -> None:
    """Before the fix a running API kept wrapping under a retired version; the keyring still holds its
    material, so a rewrap (or the next rotation) moves such keys instead of failing partway."""
    with store.unit_of_work() as uow:
        nid = create(uow)
    keys_service.rotate(store, SystemActor("test"))
    keys_service.retire(store, SystemActor("test"), "1")
    doc = json.loads((settings.resolved_key_dir / LocalKeyring.FILE).read_text())
    old = base64.b64decode(doc["keys"]["1"]["key"])
    with store.unit_of_work() as uow:  # what a stale process wrote: a data key under the retired version 1
        key_id, data_key, nonce = uuid.uuid4(), AESGCM.generate_key(256), os.urandom(12)
        wrapped = nonce + AESGCM(old).encrypt(nonce, data_key, b"register-dek|" + key_id.bytes)
        uow.session.execute(
            insert(m.DataKey).values(
                id=key_id,
                nominal_id=nid,
                kek_version="1",
                wrapped=wrapped,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    version, moved = keys_service.rotate(store, SystemActor("test"))
    assert (version, moved) == ("3", 2)
    assert versions_in_use(store) == {"3": 2}
    with store.unit_of_work() as uow:
        uow.cipher.load([key_id])
        assert uow.cipher._keys[key_id] == data_key


def test_key_files_and_the_key_directory_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        key_dir = tmp_path / "fresh" / "keys"
        keys = KeySet.load(key_dir, generate=True)
        ensure_dev_signing_key(key_dir)
        keys.keyring.add_version()
        keys.keyring.mark_retiring("1")
        made_open = tmp_path / "open-keys"  # a key dir someone created world-readable before the first run
        made_open.mkdir(mode=0o755)
        KeySet.load(made_open, generate=True)
    finally:
        os.umask(old)
    for directory in (key_dir, made_open):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    for name in (LocalKeyring.FILE, KeySet.BLIND_FILE, KeySet.AUDIT_FILE, DEV_KEY_FILE):
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600, name
    for name in (LocalKeyring.FILE, KeySet.BLIND_FILE, KeySet.AUDIT_FILE):
        assert stat.S_IMODE((made_open / name).stat().st_mode) == 0o600, name
    assert not [p.name for p in key_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_process_with_an_out_of_date_copy_of_the_key_file_never_wraps_under_a_retired_version(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    """Hosts with their own copy of the key directory: one not yet given the rotated key file refuses to write
    once the version it would wrap under is retired, instead of writing data a restart could not read."""
    import shutil

    stale_dir = tmp_path / "other-host-keys"
    shutil.copytree(settings.resolved_key_dir, stale_dir)
    other = build_store(settings.model_copy(update={"key_dir": stale_dir}))
    try:
        with store.unit_of_work() as uow:
            create(uow)
        keys_service.rotate(store, SystemActor("test"))
        with other.unit_of_work() as uow:  # version 1 is not retiring yet: still fine to wrap under
            create(uow)
        with pytest.raises(ValueError, match="1 data keys are still wrapped under version 1"):
            keys_service.retire(store, SystemActor("test"), "1")
        assert keys_service.rewrap_data_keys(store, SystemActor("test")) == 1
        keys_service.retire(store, SystemActor("test"), "1")
        with (
            pytest.raises(KeyNotAvailable, match="the key file here is out of date"),
            other.unit_of_work() as uow,
        ):
            create(uow)
        assert versions_in_use(store) == {"2": 2}
    finally:
        other.dispose()


def test_an_interrupted_rotation_is_finished_by_rewrap_and_every_record_stays_readable(
    store: Store, settings: Settings
) -> None:
    with store.unit_of_work() as uow:
        ids = [create(uow) for _ in range(5)]
    code, out = cli(
        settings, "keys", "rotate", "--no-rewrap"
    )  # what an interrupted rotation leaves: v2 active, nothing moved
    assert code == 0 and "v2 is active; no data key moved yet" in out, out
    assert versions_in_use(store) == {"1": 5}
    seen: list[tuple[int, int]] = []
    assert (
        keys_service.rewrap_data_keys(
            store, SystemActor("test"), batch=2, progress=lambda d, t: seen.append((d, t))
        )
        == 5
    )
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert (
        cli(settings, "keys", "rewrap")[1].strip().endswith("0 data keys re-wrapped")
    )  # rerunning is harmless
    code, out = cli(settings, "keys", "retire", "1")
    assert code == 0, out
    with store.unit_of_work() as uow:
        assert all(uow.nominals.load(i).identity.surname for i in ids)


def test_a_key_file_broken_by_hand_keeps_the_keys_read_earlier_and_changes_are_refused_cleanly(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys" / LocalKeyring.FILE
    running = LocalKeyring.create(path)
    good = path.read_text()
    path.write_text("{ not json")
    assert running.active_version() == "1"  # a running process keeps working
    with pytest.raises(KeyNotAvailable, match="malformed"):
        LocalKeyring(path)  # a starting one says what is wrong
    path.write_text(good)
    lock = path.with_name(LocalKeyring.FILE + ".lock")
    lock.mkdir()  # stands for a key directory the command cannot write (root writes even into a 0500 one)
    with pytest.raises(KeyProblem, match="run key changes where the key directory is writable"):
        running.add_version()
    lock.rmdir()
    assert running.add_version() == "2" and LocalKeyring(path).active_version() == "2"


def test_threads_wrapping_and_unwrapping_while_the_keyring_changes_never_fail(tmp_path: Path) -> None:
    path = tmp_path / "keys" / LocalKeyring.FILE
    LocalKeyring.create(path)
    shared, operator = (
        LocalKeyring(path),
        LocalKeyring(path),
    )  # one per process: the API's (used by its threads), a command's
    errors: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                context = os.urandom(16)
                version, wrapped = shared.wrap(b"d" * 32, context)
                assert shared.state(version) == "active" or int(version) < int(shared.active_version())
                assert shared.unwrap(version, wrapped, context) == b"d" * 32
        except BaseException as exc:  # noqa: BLE001 - any failure in a thread is collected; the test asserts none
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(8):
        previous = operator.add_version()
        operator.mark_retiring(str(int(previous) - 1))
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, errors[:3]
    assert shared.active_version() == "9" and shared.state("8") == "retiring"


def test_a_running_register_refuses_a_key_file_swapped_for_other_keys(
    store: Store, settings: Settings
) -> None:
    """Re-reading the key file must not let a wrong file (another environment's) in: data keys wrapped under
    it would be unreadable once the right file is back."""
    path = settings.resolved_key_dir / LocalKeyring.FILE
    good = path.read_text()
    doc = json.loads(good)
    doc["keys"]["1"]["key"] = base64.b64encode(os.urandom(32)).decode()
    path.write_text(json.dumps(doc))
    # The running process keeps the key it read: a version's key never changes
    with store.unit_of_work() as uow:
        nid = create(uow)
    wrong = LocalKeyring(
        path
    )  # a keyring holding the wrong key for version 1 is refused before anything is written
    with (
        pytest.raises(
            KeyMismatch, match="kek:1 key in the key file is not the key this database was written with"
        ),
        Store(
            **{**store.__dict__, "keys": KeySet(wrong, store.keys.blind_root, store.keys.audit_root)}
        ).unit_of_work() as uow,
    ):
        create(uow)
    path.write_text(good)
    assert versions_in_use(store) == {"1": 1}
    store.dispose()
    fresh = build_store(settings)
    try:
        with fresh.unit_of_work() as uow:
            assert uow.nominals.load(nid).identity.surname
    finally:
        fresh.dispose()


@pytest.mark.postgres_only  # SQLite's reader would go on seeing its snapshot of the key as it was
def test_a_record_opens_when_its_key_was_rewrapped_and_the_old_version_retired_after_its_header_was_read(
    store: Store,
) -> None:
    """A record's header is read with its data key still wrapped (decision 60), and the key is unwrapped only
    when a value is opened. If a rotation moved the key off its version and retired it in between, the
    register reads the key again rather than failing on the retired version."""
    with store.unit_of_work() as uow:
        nid = create(uow)
    with store.unit_of_work() as reading:
        reading.nominals.header_row(nid)  # the key comes with it, wrapped under version 1
        assert keys_service.rotate(store, SystemActor("test")) == ("2", 1)  # the key moved to version 2
        keys_service.retire(store, SystemActor("test"), "1")
        assert reading.nominals.load(nid).identity.surname
