"""The synthetic register: deterministic for a seed, written through the domain and the encryption like real
writes, in the proportions of the annual reports, with deliberate duplicates the cascade finds."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from register.audit.tags import Tag
from register.domain.enums import Agency, Area
from register.domain.record import Section
from register.merges import repository as duplicates
from register.store import models as m
from register.store.store import Store
from register.synthetic import service as synthetic
from register.synthetic.people import Caseload, PersonFactory

TODAY = dt.date(2026, 11, 22)


def test_a_seed_always_gives_the_same_people() -> None:
    one, two, other = PersonFactory(7, TODAY), PersonFactory(7, TODAY), PersonFactory(8, TODAY)
    for i in (0, 1, 57, 999):
        a, b = one.person(i), two.person(i)
        assert (a.id, a.new, a.items, a.chronology, a.item_ids, a.entry_ids) == (
            b.id,
            b.new,
            b.items,
            b.chronology,
            b.item_ids,
            b.entry_ids,
        )
    assert [one.person(i).new.identity for i in range(20)] != [
        other.person(i).new.identity for i in range(20)
    ]


def test_proportions_follow_the_annual_reports() -> None:
    people = [PersonFactory(3, TODAY).person(i) for i in range(2000)]
    levels = Counter(p.new.mappa_level for p in people if p.new.mappa_category is not None)
    categories = Counter(p.new.mappa_category for p in people)
    managed = sum(levels.values())
    assert (
        0.94 < levels[1] / managed < 0.99 and 0.01 < levels[2] / managed < 0.06 and levels[3] / managed < 0.02
    )
    assert 0.6 < categories[1] / len(people) < 0.72 and 0.24 < categories[2] / len(people) < 0.36
    assert 16 < sum(len(p.chronology) for p in people) / len(people) < 24
    assert (
        0 < sum(p.duplicate_of is not None for p in people) < 60
        and 50 < sum(p.archived is not None for p in people) < 200
    )


def test_generated_records_read_back_through_the_store_and_their_duplicates_are_found(store: Store) -> None:
    done = synthetic.generate(store, 300, 11, today=TODAY, batch=120)
    people = [PersonFactory(11, TODAY).person(i) for i in range(300)]
    with store.session_factory() as s:
        assert s.execute(select(func.count()).select_from(m.Nominal)).scalar_one() == 300 == done.people
        assert (
            s.execute(select(func.count()).select_from(m.ChronologyEntry)).scalar_one()
            == done.entries
            == sum(len(p.chronology) for p in people)
        )
        plain = b"".join(bytes(v) for v in s.scalars(select(m.Nominal.identity_sealed)))
        assert people[5].new.identity.surname.encode() not in plain  # sealed like every real write
        pairs = {frozenset((r.first, r.second)) for r in s.execute(duplicates.candidate_pairs())}
    with store.unit_of_work() as uow:
        for p in people[:25]:
            record = uow.nominals.load(p.id)
            assert record.identity == p.new.identity and len(record.chronology) == len(p.chronology)
            assert sorted(i.id for items in record.sections.values() for i in items) == sorted(p.item_ids)
    planted = {frozenset((p.id, people[p.duplicate_of].id)) for p in people if p.duplicate_of is not None}
    assert planted and planted <= pairs  # every deliberate duplicate is proposed


@pytest.mark.postgres_only
def test_batches_written_by_several_processes_make_the_same_register(store: Store) -> None:
    """`register generate` writes batches in parallel on PostgreSQL (by COPY): the same people, the caseload
    given to the first people it takes in index order whichever batch finishes first, every batch audited, and
    the duplicate pairs kept equal to those the tokens give, although concurrent batches cannot see each
    other's tokens as they write."""
    caseload = Caseload("test.om.parallel", Agency.POLICE, Area.KENT, "DC Parallel", 20)
    done = synthetic.generate(store, 300, 11, today=TODAY, batch=3, workers=2, caseload=caseload)
    factory = PersonFactory(11, TODAY)
    people = [factory.person(i) for i in range(300)]
    takers = [p.id for p in people if caseload.takes(p)][: caseload.size]
    with store.session_factory() as s:
        assert set(s.scalars(select(m.Nominal.id))) == {p.id for p in people} and done.people == 300
        assert s.execute(select(func.count()).select_from(m.ChronologyEntry)).scalar_one() == sum(
            len(p.chronology) for p in people
        )
        managed = s.scalars(
            select(m.Item.nominal_id).where(
                m.Item.section == Section.OFFENDER_MANAGERS.value, m.Item.ref == caseload.user_id
            )
        )
        assert sorted(managed) == sorted(takers) and len(takers) == caseload.size
        batches = s.scalars(
            select(m.AuditEvent.details).where(m.AuditEvent.tag == Tag.SYNTHETIC_GENERATE.value)
        )
        assert sorted(json.loads(d)["from"] for d in batches) == list(range(0, 300, 3))
        areas = set(s.scalars(select(m.Nominal.area).distinct()))
        kept = {tuple(r) for a in areas for r in s.execute(duplicates.stored_pairs(a))}
        live = {tuple(r) for a in areas for r in s.execute(duplicates.candidate_pairs(a))}
    planted = {frozenset((p.id, people[p.duplicate_of].id)) for p in people if p.duplicate_of is not None}
    assert planted and planted <= {frozenset(pair[:2]) for pair in live} and kept == live


@pytest.mark.sqlite_only
def test_sqlite_is_written_by_one_process(store: Store) -> None:
    with pytest.raises(ValueError, match="one writer"):
        synthetic.generate(store, 10, 1, today=TODAY, workers=2)
    with store.session_factory() as s:
        assert s.execute(select(func.count()).select_from(m.Nominal)).scalar_one() == 0
