"""Why an item ended is the officer's own words about a person: the database holds it sealed with the record's
data key, never in clear, and `register db upgrade` seals the reasons an earlier version kept in clear (in
batches, resumable) without changing what anyone reads."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select, update

from register.cli import main
from register.config import Settings
from register.domain.record import Section
from register.nominals import service
from register.store import models as m
from register.store.store import Store
from tests.factories import OFFICER, add, create

REASON = "moved in with his sister at 14 Cherry Lane"


def ended_item(store: Store) -> tuple[object, object]:
    with store.unit_of_work() as uow:
        nid = create(uow)
        item_id, version = add(
            uow, nid, Section.VEHICLES, {"vrm": "GK19 XBW", "make": "Ford", "colour": "blue"}, 1
        )
        service.end_item(uow, OFFICER, nid, item_id, REASON, expected_version=version)
    return nid, item_id


def reason_read(store: Store, nid: object, item_id: object) -> str | None:
    with store.unit_of_work() as uow:
        record = service.read_record(uow, OFFICER, nid, purpose="caseload")  # type: ignore[arg-type]
    [item] = [i for i in record.sections[Section.VEHICLES] if i.id == item_id]
    return item.ended_reason


def test_an_end_reason_is_kept_sealed_and_read_back(store: Store) -> None:
    nid, item_id = ended_item(store)
    with store.session_factory() as s:
        row = s.execute(select(m.Item).where(m.Item.id == item_id)).scalar_one()
    assert row.ended_reason is None and row.ended_reason_sealed is not None
    assert b"Cherry" not in row.ended_reason_sealed
    assert reason_read(store, nid, item_id) == REASON


def test_db_upgrade_seals_reasons_an_earlier_version_kept_in_clear(store: Store, settings: Settings) -> None:
    nid, item_id = ended_item(store)
    with store.engine.begin() as conn:  # as a version before migration 0013 wrote it
        conn.execute(
            update(m.Item).where(m.Item.id == item_id).values(ended_reason=REASON, ended_reason_sealed=None)
        )
    assert reason_read(store, nid, item_id) == REASON  # read either way in between
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
    }
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "sealed 1 end reasons" in result.output
    with store.session_factory() as s:
        row = s.execute(select(m.Item).where(m.Item.id == item_id)).scalar_one()
    assert row.ended_reason is None and row.ended_reason_sealed is not None
    assert reason_read(store, nid, item_id) == REASON
    again = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert again.exit_code == 0 and "sealed" not in again.output  # nothing left: a rerun does nothing
