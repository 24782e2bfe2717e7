"""The conformance suite on both backends: the embedded SQL backend (on SQLite and PostgreSQL) and
Elasticsearch (the real node). Every scenario must return exactly its hand-written hits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import NotFoundError

from register.search import indexer as idx
from register.search.backend import SearchBackend, Viewer
from register.search.elastic import ElasticBackend
from register.search.indexer import SearchIndex
from register.search.query import SearchRequest
from register.search.sql import SqlBackend
from register.store.store import Store
from tests.search import conformance
from tests.search.test_indexer import make_index

KENT = Viewer("kent")  # the owning area of every restricted fixture record: sees them all in full
ESSEX = Viewer("essex")  # P3 (restricted, kent) is only a stub here, so it takes no part in any search
RESTRICTED_IN_KENT = frozenset(k for k, p in conformance.PEOPLE.items() if p["header"].get("restricted"))


def run_scenarios(
    backend: SearchBackend,
    ids: dict[str, uuid.UUID],
    viewer: Viewer = KENT,
    hidden: frozenset[str] = frozenset(),
) -> list[str]:
    """Every scenario for one viewer; `hidden` are the records that viewer may only see as stubs, which must
    be left out of the hits and the totals (the rest of each expectation is unchanged)."""
    names = {v: k for k, v in ids.items()}
    failures = []
    for s in conformance.SCENARIOS:
        request = SearchRequest.model_validate(
            {"query": s.query, "include_archived": s.include_archived, "page_size": 100}
        )
        results = backend.search(request, conformance.TODAY, viewer)
        got = [names[h.nominal_id] for h in results.hits]
        expected, order = s.expected - hidden, [k for k in s.order or [] if k not in hidden]
        problems = []
        if set(got) != expected or results.total != len(expected):
            problems.append(f"got {sorted(got)} (total {results.total}), want {sorted(expected)}")
        if order and got[: len(order)] != order:
            problems.append(f"ranked {got}, want {order} first")
        for key, why in s.why.items():
            if key in hidden:
                continue
            hit = next((h for h in results.hits if names[h.nominal_id] == key), None)
            if hit is None or hit.matched != why:
                problems.append(f"{key} matched {hit.matched if hit else None}, want {why}")
        for key, how in s.how.items():
            if key in hidden:
                continue
            hit = next((h for h in results.hits if names[h.nominal_id] == key), None)
            if hit is None or hit.how != how:
                problems.append(f"{key} matched how {hit.how if hit else None}, want {how}")
        for key, score in s.scores.items():
            if key in hidden:
                continue
            hit = next((h for h in results.hits if names[h.nominal_id] == key), None)
            if hit is None or hit.score != score:
                problems.append(f"{key} scored {hit.score if hit else None}, want {score}")
        if problems:
            failures.append(f"{s.name}: " + "; ".join(problems))
    return failures


def test_there_are_at_least_forty_scenarios() -> None:
    assert len(conformance.SCENARIOS) >= 40
    assert len({s.name for s in conformance.SCENARIOS}) == len(conformance.SCENARIOS)


@pytest.fixture
def fixture_ids(store: Store) -> dict[str, uuid.UUID]:
    with store.unit_of_work() as uow:
        ids = conformance.load(uow)
    return ids


def test_the_embedded_sql_backend_passes_every_scenario(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    failures = run_scenarios(SqlBackend(store), fixture_ids)
    assert not failures, "\n".join(failures)


@pytest.fixture
def fixture_index(store: Store, fixture_ids: dict[str, uuid.UUID], es_node) -> Iterator[SearchIndex]:  # type: ignore[no-untyped-def]
    """The fixture register indexed into a fresh alias on the real node."""
    index = make_index(es_node.url, f"t-{uuid.uuid4().hex[:12]}")
    index.ensure()
    try:
        idx.drain_all(store, index)
        index.refresh()
        yield index
    finally:
        index.client.indices.delete(
            index=f"{index.spec.alias}-*", ignore_unavailable=True, allow_no_indices=True
        )


@pytest.mark.sqlite_only  # the index is the engine here; the store it is built from is the same on both
def test_elasticsearch_passes_every_scenario(
    fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    failures = run_scenarios(ElasticBackend(fixture_index), fixture_ids)
    assert not failures, "\n".join(failures)


@pytest.mark.sqlite_only
def test_both_backends_agree_on_facets(store: Store, fixture_index: SearchIndex) -> None:
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "criteria": [{"type": "person", "gender": "male"}]}}
    )
    sql, es = (
        SqlBackend(store).search(request, conformance.TODAY, KENT),
        ElasticBackend(fixture_index).search(request, conformance.TODAY, KENT),
    )
    assert (
        sql.facets
        == es.facets
        == {
            "area": {"kent": 4, "essex": 2},
            "mappa_category": {"1": 3, "2": 2},
            "mappa_level": {"1": 3, "2": 1, "3": 1},
        }
    )
    assert sql.total == es.total == 6


@pytest.mark.sqlite_only
def test_both_backends_score_and_order_every_scenario_alike(
    store: Store, fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    """Every hit of every scenario has the same score, place, reasons and `how` on both backends
    (Elasticsearch scores in float32: the grades and weights are exact there), for a searcher who sees
    everything and for one to whom a restricted record is only a stub."""
    names = {v: k for k, v in fixture_ids.items()}
    differ = []
    for viewer in (KENT, ESSEX):
        for s in conformance.SCENARIOS:
            request = SearchRequest.model_validate(
                {"query": s.query, "include_archived": s.include_archived, "page_size": 100}
            )
            sql, es = (
                [
                    (names[h.nominal_id], h.score, h.matched, h.how)
                    for h in backend.search(request, conformance.TODAY, viewer).hits
                ]
                for backend in (SqlBackend(store), ElasticBackend(fixture_index))
            )
            if sql != es:
                differ.append(f"{viewer.area} {s.name}: sql {sql}, elasticsearch {es}")
    assert differ == [], "\n".join(differ)


def test_the_embedded_sql_backend_leaves_out_what_another_area_sees_only_as_a_stub(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    assert {"P3"} == RESTRICTED_IN_KENT
    failures = run_scenarios(SqlBackend(store), fixture_ids, ESSEX, RESTRICTED_IN_KENT)
    assert not failures, "\n".join(failures)


@pytest.mark.sqlite_only
def test_elasticsearch_leaves_out_what_another_area_sees_only_as_a_stub(
    fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    failures = run_scenarios(ElasticBackend(fixture_index), fixture_ids, ESSEX, RESTRICTED_IN_KENT)
    assert not failures, "\n".join(failures)


@pytest.mark.sqlite_only
def test_both_backends_count_facets_and_sort_only_over_what_the_viewer_sees_in_full(
    store: Store, fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    """P3 (restricted, kent; vo, category 2, level 3; surname Brannigan; the only "rose" tattoo) is invisible
    from essex: not in the totals or the facets, no answer to a criterion only it meets, no place in the
    surname order."""
    names = {v: k for k, v in fixture_ids.items()}

    def run(backend: SearchBackend, viewer: Viewer, *criteria: dict, sort: str = "relevance"):  # type: ignore[no-untyped-def,type-arg]
        request = SearchRequest.model_validate(
            {"query": {"type": "group", "criteria": list(criteria)}, "sort": sort, "page_size": 100}
        )
        return backend.search(request, conformance.TODAY, viewer)

    for backend in (SqlBackend(store), ElasticBackend(fixture_index)):
        male = run(backend, ESSEX, {"type": "person", "gender": "male"})
        assert male.total == 5
        assert male.facets == {
            "area": {"kent": 3, "essex": 2},
            "mappa_category": {"1": 3, "2": 1},
            "mappa_level": {"1": 3, "2": 1},
        }
        rose = run(backend, ESSEX, {"type": "mark", "text": "rose"})
        assert (rose.total, rose.hits, rose.facets) == (
            0,
            [],
            {"area": {}, "mappa_category": {}, "mappa_level": {}},
        )
        assert (
            run(backend, KENT, {"type": "mark", "text": "rose"}).total == 1
        )  # the probe does find P3 in its own area
        level_3 = run(backend, ESSEX, {"type": "management", "mappa_level": 3})
        assert level_3.total == 0 and level_3.facets["area"] == {}
        in_kent = run(backend, KENT, {"type": "management", "area": "kent"}, sort="surname")
        from_essex = run(backend, ESSEX, {"type": "management", "area": "kent"}, sort="surname")
        assert [names[h.nominal_id] for h in in_kent.hits] == ["P3", "P1", "P8", "P2", "P7"]
        assert [names[h.nominal_id] for h in from_essex.hits] == ["P1", "P8", "P2", "P7"]
        assert from_essex.total == 4 and from_essex.facets["area"] == {"kent": 4}


def test_the_sql_backend_narrows_radius_searches_to_nearby_cells(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    backend = SqlBackend(store)
    near_maidstone = SearchRequest.model_validate(
        {
            "query": {
                "type": "group",
                "criteria": [{"type": "address", "near": {**conformance.MAIDSTONE, "radius_km": 2}}],
            }
        }
    )
    with store.session_factory() as s:
        candidates = set(s.scalars(backend.candidates(near_maidstone)))
    assert candidates == {
        fixture_ids["P1"]
    }  # only records with an address in the touched cells are decrypted


def test_the_sql_backend_narrows_or_groups_and_ages_but_never_a_not(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    backend = SqlBackend(store)

    def candidates(*criteria: dict, op: str = "and") -> set[uuid.UUID]:  # type: ignore[type-arg]
        request = SearchRequest.model_validate(
            {"query": {"type": "group", "op": op, "criteria": list(criteria)}}
        )
        with store.session_factory() as s:
            return set(s.scalars(backend.candidates(request, conformance.TODAY)))

    everyone = candidates({"type": "person", "gender": "male"})
    either = candidates(
        {"type": "name", "value": "Brannigan", "mode": "exact"},
        {"type": "name", "value": "Doyle", "mode": "exact"},
        op="or",
    )
    assert either == {fixture_ids["P3"], fixture_ids["P5"]}
    aged_35 = candidates({"type": "age", "min": 35, "max": 35, "at": "2026-01-01"})  # born 1990-05-29
    assert fixture_ids["P3"] in aged_35 and len(aged_35) < len(everyone)
    half_known = candidates(
        {"type": "name", "value": "Doyle", "mode": "exact"}, {"type": "person", "gender": "male"}, op="or"
    )
    assert half_known == everyone  # one branch cannot be narrowed: no narrowing at all, nothing missed
    assert (
        candidates(
            {"type": "group", "op": "not", "criteria": [{"type": "name", "value": "Doyle", "mode": "exact"}]},
            {"type": "person", "gender": "male"},
        )
        == everyone
    )


def test_rebuilt_tokens_find_what_the_original_tokens_found(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    from sqlalchemy import delete, select

    from register.domain.actors import SystemActor
    from register.keys.service import rebuild_tokens
    from register.store import models as m

    def every_token() -> set[tuple[object, ...]]:
        with store.session_factory() as s:
            return {
                tuple(r)
                for r in s.execute(
                    select(
                        m.BlindToken.nominal_id, m.BlindToken.item_id, m.BlindToken.kind, m.BlindToken.token
                    )
                )
            }

    def every_word() -> set[tuple[object, ...]]:
        with store.session_factory() as s:
            return {
                tuple(r)
                for r in s.execute(
                    select(m.TextToken.item_id, m.TextToken.entry_id, m.TextToken.source, m.TextToken.token)
                )
            }

    written, words = every_token(), every_word()
    assert len(words) > 40  # every narrative piece of the fixture, word by word
    with store.unit_of_work() as uow:  # a register written before some token kinds existed
        uow.session.execute(
            delete(m.BlindToken).where(
                m.BlindToken.kind.like("geo_cell_%") | m.BlindToken.kind.like("%_sound")
            )
        )
        uow.session.execute(delete(m.TextToken))  # and before free text (migration 0021)
    assert rebuild_tokens(store, SystemActor("test")) == len(fixture_ids)
    assert every_token() == written  # the rebuild writes exactly what the writes themselves wrote
    assert every_word() == words
    failures = run_scenarios(SqlBackend(store), fixture_ids)
    assert not failures, "\n".join(failures)


def walk(backend: SearchBackend, body: dict, viewer: Viewer) -> tuple[list[uuid.UUID], int]:  # type: ignore[type-arg]
    """Every hit, one page of one at a time, following the cursors; and the number of pages."""
    out: list[uuid.UUID] = []
    request = SearchRequest.model_validate({**body, "page_size": 1})
    pages = 0
    while True:
        results = backend.search(request, conformance.TODAY, viewer)
        pages += 1
        out += [h.nominal_id for h in results.hits]
        if not results.more:
            return out, pages
        request = SearchRequest.model_validate({**body, "page_size": 1}).resuming(
            results.hits[-1].sort, results.snapshot
        )


@pytest.mark.sqlite_only
def test_both_backends_reach_every_hit_by_cursor_even_beyond_the_engines_result_window(
    store: Store, fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    # Elasticsearch refuses from + size beyond the index's result window; shrink it to 2 so that walking the
    # fixture register (8 records) goes far beyond it: search_after on the sort key never needs an offset.
    fixture_index.client.indices.put_settings(
        index=fixture_index.spec.alias, settings={"index.max_result_window": 2}
    )
    ranked = {
        "type": "group",
        "op": "or",
        "criteria": [
            {"type": "person", "gender": "male"},
            {"type": "name", "value": "Hartley"},
            {"type": "mark", "kind": "tattoo"},
            {"type": "person", "gender": "female"},
        ],
    }
    for sort in ("relevance", "surname"):
        body = {"query": ranked, "sort": sort, "include_archived": True}
        whole = [
            h.nominal_id
            for h in SqlBackend(store)
            .search(SearchRequest.model_validate({**body, "page_size": 100}), conformance.TODAY, KENT)
            .hits
        ]
        assert len(whole) == 8
        for backend in (SqlBackend(store), ElasticBackend(fixture_index)):
            assert walk(backend, body, KENT) == (whole, 8), (sort, type(backend).__name__)
            assert walk(backend, body, ESSEX) == ([i for i in whole if i != fixture_ids["P3"]], 7), (
                sort,
                type(backend).__name__,
            )


@pytest.mark.sqlite_only
def test_an_elasticsearch_walk_reads_one_point_in_time_and_survives_its_loss(
    store: Store, fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    """A page found by its number opens no point in time; a walk's second page opens one and the rest of the
    walk reads it: a record that leaves the index meanwhile is still met once, in its place. A cursor whose
    point in time has gone (expired, closed, or an id the engine does not know) walks on over the live index
    from the same sort key, never a 5xx, and the page after opens a fresh one."""
    backend = ElasticBackend(fixture_index)
    body = {"query": {"type": "group", "criteria": [{"type": "person"}]}, "sort": "surname"}
    whole = [
        h.nominal_id
        for h in backend.search(
            SearchRequest.model_validate({**body, "page_size": 100}), conformance.TODAY, KENT
        ).hits
    ]
    assert len(whole) == 7  # the active records
    request = SearchRequest.model_validate({**body, "page_size": 2})
    first = backend.search(request, conformance.TODAY, KENT)
    assert first.more and first.snapshot is None
    second = backend.search(request.resuming(first.hits[-1].sort), conformance.TODAY, KENT)
    assert second.more and second.snapshot
    fixture_index.delete([str(whole[-1])])  # the last in surname order leaves the live index
    fixture_index.refresh()
    walked, results = [h.nominal_id for h in first.hits + second.hits], second
    while results.more:
        results = backend.search(
            request.resuming(results.hits[-1].sort, results.snapshot), conformance.TODAY, KENT
        )
        walked += [h.nominal_id for h in results.hits]
    assert walked == whole  # the point in time still holds it
    live = backend.search(SearchRequest.model_validate({**body, "page_size": 100}), conformance.TODAY, KENT)
    assert [h.nominal_id for h in live.hits] == whole[:-1]
    with pytest.raises(NotFoundError):  # the walk's last page closed its point in time
        fixture_index.client.close_point_in_time(id=second.snapshot)
    for gone in (second.snapshot, "bm90IGEgcG9pbnQgaW4gdGltZQ=="):
        resumed = request.resuming(second.hits[-1].sort, gone)
        rest = backend.search(resumed, conformance.TODAY, KENT)
        assert [h.nominal_id for h in rest.hits] == whole[4:6], gone
        assert rest.more is False and rest.snapshot is None  # read live: the last record has gone
        assert SqlBackend(store).search(resumed, conformance.TODAY, KENT).hits[0].nominal_id == whole[4]
        again = backend.search(request.resuming(first.hits[-1].sort, gone), conformance.TODAY, KENT)
        assert [h.nominal_id for h in again.hits] == whole[2:4] and again.more and again.snapshot is None
        after = backend.search(request.resuming(again.hits[-1].sort), conformance.TODAY, KENT)
        assert [h.nominal_id for h in after.hits] == whole[4:6] and after.snapshot is None  # the last page


POLICE = Viewer("kent", agency="police")
PROBATION = Viewer("kent", agency="probation")


def free_text(backend: SearchBackend, viewer: Viewer, text: str, **kw: object):  # type: ignore[no-untyped-def]
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "criteria": [{"type": "text", "text": text, **kw}]}, "page_size": 100}
    )
    return backend.search(request, conformance.TODAY, viewer)


def observed(results, names: dict[uuid.UUID, str]) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    """Everything a searcher can observe of an answer: the hits in order with why and how they matched (and
    any highlight), the total, the facets, whether more follow."""
    return (
        [(names[h.nominal_id], h.matched, h.how, h.highlight) for h in results.hits],
        results.total,
        results.facets,
        results.more,
    )


def check_intelligence_audience(backend: SearchBackend, ids: dict[str, uuid.UUID]) -> None:
    """P2's intelligence ("...the school gate on Bower Lane...") is police only; P4's chronology entry (about
    his grandson at the school gate) anyone's. A probation searcher's answer is exactly the answer of a
    register without that intelligence: P4 alone, counted alone, in the facets alone."""
    names = {v: k for k, v in ids.items()}
    police = free_text(backend, POLICE, "school gate")
    assert sorted(names[h.nominal_id] for h in police.hits) == ["P2", "P4"] and police.total == 2
    probation = free_text(backend, PROBATION, "school gate")
    # Hand-written: what a register without P2's intelligence answers (P4: essex, category 1, level 1)
    assert [(names[h.nominal_id], h.matched, h.how) for h in probation.hits] == [
        ("P4", ["0:text (words in chronology entry)"], {"0:text": "free text"})
    ]
    assert (probation.total, probation.more) == (1, False)
    assert probation.facets == {"area": {"essex": 1}, "mappa_category": {"1": 1}, "mappa_level": {"1": 1}}
    # A word only the hidden intelligence holds: no hit, no count, no facet, exactly as a word nobody wrote
    assert observed(free_text(backend, PROBATION, "loitering"), names) == observed(
        free_text(backend, PROBATION, "xylophone"), names
    )
    assert free_text(backend, PROBATION, "loitering").total == 0
    assert [names[h.nominal_id] for h in free_text(backend, POLICE, "loitering").hits] == ["P2"]
    # Ranked with another criterion, the hidden piece adds nothing to P2's score or to why it matched
    request = SearchRequest.model_validate(
        {
            "query": {
                "type": "group",
                "op": "or",
                "criteria": [{"type": "name", "value": "O'Sullivan"}, {"type": "text", "text": "Bower"}],
            },
            "page_size": 100,
        }
    )
    for viewer, score, why in (
        (PROBATION, 1.0, ["0:name (primary name mark o'sullivan)"]),
        (POLICE, 2.0, ["0:name (primary name mark o'sullivan)", "1:text (words in intelligence)"]),
    ):
        got = backend.search(request, conformance.TODAY, viewer)
        assert [(names[h.nominal_id], h.score, h.matched) for h in got.hits] == [("P2", score, why)]
    # A section the viewer's agency may not read is read by no free text either
    no_intelligence = Viewer(
        "kent", agency="police", sections=frozenset({"chronology", "marks", "offences", "employment"})
    )
    assert [names[h.nominal_id] for h in free_text(backend, no_intelligence, "school gate").hits] == ["P4"]


def test_the_embedded_sql_backend_reads_only_the_free_text_the_searcher_may_read(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    check_intelligence_audience(SqlBackend(store), fixture_ids)
    # Not only the answer: the candidates it decrypts are narrowed by readable tokens alone
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "criteria": [{"type": "text", "text": "loitering"}]}}
    )
    with store.session_factory() as s:
        assert set(s.scalars(SqlBackend(store).candidates(request, conformance.TODAY, PROBATION))) == set()
        assert set(s.scalars(SqlBackend(store).candidates(request, conformance.TODAY, POLICE))) == {
            fixture_ids["P2"]
        }


@pytest.mark.sqlite_only
def test_elasticsearch_reads_only_the_free_text_the_searcher_may_read(
    fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    check_intelligence_audience(ElasticBackend(fixture_index), fixture_ids)


@pytest.mark.sqlite_only
def test_elasticsearch_highlights_free_text_only_from_what_the_searcher_may_read(
    fixture_index: SearchIndex, fixture_ids: dict[str, uuid.UUID]
) -> None:
    names = {v: k for k, v in fixture_ids.items()}
    backend = ElasticBackend(fixture_index)
    police = {names[h.nominal_id]: h.highlight for h in free_text(backend, POLICE, "school gate").hits}
    assert police["P2"] == {
        "0:text": "Seen loitering by the <mark>school</mark> <mark>gate</mark> on Bower Lane most afternoons"
    }
    assert police["P4"] == {
        "0:text": "Told his offender manager he collects his grandson from the <mark>school</mark> "
        "<mark>gate</mark>"
    }
    probation = [h.highlight for h in free_text(backend, PROBATION, "school gate").hits]
    assert probation == [police["P4"]]  # nothing of P2's intelligence, highlighted or not
    # A person with readable and unreadable pieces holding the words: the highlight is the readable one's
    assert not any("Bower" in text for h in probation for text in h.values())


def test_the_sql_backend_highlights_nothing_it_holds_only_hashes(
    store: Store, fixture_ids: dict[str, uuid.UUID]
) -> None:
    hits = free_text(SqlBackend(store), POLICE, "school gate").hits
    assert len(hits) == 2 and all(h.highlight == {} for h in hits)
