"""The suspected duplicates the supervisor's desk lists are kept as the records change (`duplicate_pair`),
not searched again on every view: whatever writes the records, the kept pairs equal the cascade worked out
from the tokens now. A pair missing from the desk is a duplicate an investigator may meet as two people."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select

from register.config import Settings
from register.merges import repository as duplicates
from register.store import models as m
from register.store.open import alembic_config
from register.store.store import Store
from register.synthetic import service as synthetic

TODAY = dt.date(2026, 11, 30)


def kept_and_worked_out(store: Store) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """Every area's pairs as the desk reads them, and as the cascade finds them from the tokens now."""
    with store.session_factory() as s:
        areas = set(s.scalars(select(m.Nominal.area).distinct()))
        assert areas
        kept = {tuple(r) for a in areas for r in s.execute(duplicates.stored_pairs(a))}
        live = {tuple(r) for a in areas for r in s.execute(duplicates.candidate_pairs(a))}
    return kept, live


def test_pairs_found_across_the_generators_batches_are_kept(store: Store) -> None:
    synthetic.generate(store, 300, 11, today=TODAY, batch=70)  # a duplicate and its original in other batches
    kept, live = kept_and_worked_out(store)
    assert live and kept == live


def test_the_migration_fills_the_pairs_from_the_tokens_alone(store: Store, settings: Settings) -> None:
    synthetic.generate(store, 200, 5, today=TODAY, batch=200)
    _, live = kept_and_worked_out(store)
    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    before = ScriptDirectory.from_config(cfg).get_revision("0019").down_revision
    assert isinstance(before, str)
    command.downgrade(cfg, before)
    command.upgrade(cfg, "head")
    kept, live_after = kept_and_worked_out(store)
    assert live_after == live and kept == live


def test_the_quality_run_repairs_pairs_a_write_missed(store: Store) -> None:
    from register.domain.actors import SystemActor
    from register.domain.enums import Area
    from register.quality import service as quality

    synthetic.generate(store, 200, 7, today=TODAY, batch=200)
    with store.session_factory() as s:
        s.execute(delete(m.DuplicatePair))  # as if written by a path that claimed no version
        s.commit()
    kept, live = kept_and_worked_out(store)
    assert live and not kept
    for area in Area:
        with store.unit_of_work() as uow:
            quality.run(uow, SystemActor("quality-test"), area, TODAY)
    kept, live = kept_and_worked_out(store)
    assert kept == live


def test_the_whole_registers_rebuild_finds_what_each_areas_lookup_finds(store: Store) -> None:
    """The quality run over every area works every pair out in one pass over the token index; each area's
    pairs are also worked out from that area's records' tokens (the desk, a one-area run). Both must agree,
    ranks included."""
    from register.store.duplicates import rebuild_pairs

    synthetic.generate(store, 300, 13, today=TODAY, batch=300)
    with store.session_factory() as s:
        s.execute(delete(m.DuplicatePair))
        rebuild_pairs(s, None)
        s.commit()
        ranks = set(s.scalars(select(m.DuplicatePair.rank).distinct()))
    kept, live = kept_and_worked_out(store)
    assert live and kept == live
    assert len(ranks) >= 2  # more than one rule's pairs compared
