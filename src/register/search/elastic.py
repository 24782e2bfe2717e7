"""The query model translated to Elasticsearch, mirroring `matching.py` criterion by criterion.

Every leaf is named after its path, so the hits say which criteria matched, and scores its weight times the
grade of the best way it matched (`matching.leaf_score`): a `constant_score` for a criterion with one grade, a
`dis_max` of `constant_score` alternatives (each a grade, each boosted by it) for one with several, and for a
name the sum of its words' grades in its best name (a nested `max`). No score depends on the index's
statistics, so nothing a searcher may not see can move one. Conditions on one address, vehicle, mark,
identifier, contact, offence or description are a single `nested` query over that item.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any

from elasticsearch import ApiError, BadRequestError, TransportError

from ..domain import values
from . import query as q
from .backend import FACETS, Hit, Results, SearchRefused, SearchUnavailable, Viewer, leaf_order, statuses
from .indexer import SearchIndex
from .matching import (
    EXACT,
    NESTED,
    ONE_EDIT,
    PARTIAL,
    PHONETIC,
    SLIP,
    TWO_EDITS,
    VARIANT,
    WEIGHTS,
    dob_grade,
    fuzziness,
    how,
    label,
    name_variants,
    parts,
    sounds_like,
)

Query = dict[str, Any]
SNAPSHOT_KEEP_ALIVE = "5m"  # how long a walk's point in time waits for its next page
# A point in time adds its own last tie-break (_shard_doc) to the sort: the key a cursor resumes after (score
# or surname, then id) is already unique, so resuming after its largest value leaves out the hit itself.
LAST_SHARD_DOC = 2**63 - 1


def _nested(path: str, filters: list[Query]) -> Query:
    return {"nested": {"path": path, "query": {"bool": {"filter": filters}}}}


def _match(field: str, text: str) -> Query:
    return {"match": {field: {"query": text, "operator": "and"}}}


def _window(path: str, c: q.Window) -> list[Query]:
    out = []
    if c.until is not None:
        out.append(
            {
                "bool": {
                    "should": [
                        {"bool": {"must_not": {"exists": {"field": f"{path}.date_from"}}}},
                        {"range": {f"{path}.date_from": {"lte": c.until.isoformat()}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    if c.since is not None:
        out.append(
            {
                "bool": {
                    "should": [
                        {"bool": {"must_not": {"exists": {"field": f"{path}.date_to"}}}},
                        {"range": {f"{path}.date_to": {"gte": c.since.isoformat()}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    return out


def _best(alternatives: list[tuple[float, Query]]) -> Query:
    """Scores the grade of the best alternative that matches: each a constant score boosted by its grade."""
    scored = [{"constant_score": {"filter": f, "boost": grade}} for grade, f in alternatives]
    return scored[0] if len(scored) == 1 else {"dis_max": {"queries": scored, "tie_breaker": 0.0}}


def _scored_nested(path: str, query: Query) -> Query:
    """A nested query scoring its best item (the inner hit it returns first)."""
    return {"nested": {"path": path, "query": query, "score_mode": "max"}}


def _levels(c: q.Name, term: q.Term) -> list[tuple[float, Query]]:
    """The ways a word may meet a term, each with its grade (`matching.word_grade`)."""
    field, t = "names.words.word", term.text
    if term.kind != "word":  # an initial or a prefix
        return [(EXACT, {"prefix": {field: t}})]
    exact: tuple[float, Query] = (EXACT, {"term": {field: t}})
    if c.mode == "exact":
        return [exact]
    if c.mode == "phonetic":
        sounds: Query = {
            "bool": {
                "should": [
                    {"terms": {f"names.words.{a}": codes}} for a, codes in sounds_like(t, c.algorithm).items()
                ],
                "minimum_should_match": 1,
            }
        }
        return [exact, (PHONETIC, sounds)]
    if c.mode == "nickname":
        return [exact, (VARIANT, {"terms": {field: sorted(name_variants(t))}})]
    return [exact] + [
        (
            grade,
            {
                "fuzzy": {
                    field: {
                        "value": t,
                        "fuzziness": edits,
                        "transpositions": True,
                        "prefix_length": 0,
                        "max_expansions": 10_000,
                    }
                }
            },
        )
        for edits, grade in ((1, ONE_EDIT), (2, TWO_EDITS))
        if edits <= fuzziness(t)
    ]


def _term(c: q.Name, term: q.Term) -> Query:
    """One term of a name criterion: a word of the name (nested in it) in the right part that meets it,
    scoring the grade of the best such word."""
    part: Query = {"terms": {"names.words.part": list(parts(c, term))}}
    return _best([(grade, _nested("names.words", [part, cond])) for grade, cond in _levels(c, term)])


def _name(c: q.Name) -> Query:
    """Every term in one name; scores the sum of the terms' grades in the best name."""
    return _scored_nested("names", {"bool": {"must": [_term(c, t) for t in c.terms()]}})


def _graded(c: q.Leaf) -> Query | None:
    """The scoring query of a criterion with several grades (None: one grade, a constant score)."""
    weight = WEIGHTS.get(c.type, 1.0)
    if isinstance(c, q.Name):
        return _name(c)
    if isinstance(c, q.DateOfBirth) and c.exact is not None:
        by_grade: dict[float, list[str]] = {}
        for d in c.dates():
            by_grade.setdefault(dob_grade(c, d), []).append(d.isoformat())
        return _best(
            [
                (weight * grade, {"terms": {"dates_of_birth": dates}})
                for grade, dates in sorted(by_grade.items(), reverse=True)
            ]
        )
    if isinstance(c, q.DateOfBirth) and c.year is not None and c.year_either_side:
        return _best(
            [
                (weight * EXACT, {"terms": {"dob_years": [c.year]}}),
                (weight * (EXACT - SLIP), {"terms": {"dob_years": [c.year - 1, c.year + 1]}}),
            ]
        )
    if isinstance(c, q.Vehicle) and c.vrm:
        filters = _vehicle_filters(c, with_vrm=False)
        exact = filters + [{"term": {"vehicles.vrm": c.vrm}}]
        pattern = filters + [{"regexp": {"vehicles.vrm": {"value": c.vrm_regex(), "flags": "NONE"}}}]
        return _scored_nested(
            "vehicles",
            _best(
                [
                    (weight * EXACT, {"bool": {"filter": exact}}),
                    (weight * PARTIAL, {"bool": {"filter": pattern}}),
                ]
            ),
        )
    if isinstance(c, q.Contact):
        kind: list[Query] = [{"term": {"contacts.kind": c.kind.value}}] if c.kind else []
        alternatives = [
            (weight * EXACT, {"bool": {"filter": kind + [{"terms": {"contacts.value": c.forms}}]}})
        ]
        if c.partial:
            alternatives.append((weight * PARTIAL, {"bool": {"filter": kind + [_contact_value(c)]}}))
        return _scored_nested("contacts", _best(alternatives))
    return None


def _free_text(c: q.FreeText, viewer: Viewer | None) -> Query:
    """Every word in one piece of narrative the viewer may read: the audience and section conditions are
    inside the nested query, so a piece they may not read can neither match nor be highlighted. Words are
    compared as the document wrote them (`narrative.words`, the reference semantics' own words)."""
    filters: list[Query] = [{"terms": {"narrative.source": list(c.sources)}}]
    filters += [{"term": {"narrative.words": w}} for w in c.words()]
    if viewer is not None and (audiences := viewer.audiences()) is not None:
        filters.append({"terms": {"narrative.audiences": audiences}})
    if viewer is not None and viewer.sections is not None:
        filters.append({"terms": {"narrative.section": sorted(viewer.sections)}})
    return _nested("narrative", filters)


def _vehicle_filters(c: q.Vehicle, with_vrm: bool) -> list[Query]:
    filters: list[Query] = (
        [{"regexp": {"vehicles.vrm": {"value": c.vrm_regex(), "flags": "NONE"}}}]
        if c.vrm and with_vrm
        else []
    )
    filters += [
        {"term": {f"vehicles.{f}": values.fold(v)}}
        for f, v in (("make", c.make), ("model", c.model), ("colour", c.colour))
        if v
    ]
    return filters + _window("vehicles", c)


def _contact_value(c: q.Contact) -> Query:
    """A contact's value is one of the forms (or, partial, holds one)."""
    forms: list[Query] = [{"terms": {"contacts.value": c.forms}}]
    if c.partial:
        forms += [
            {
                "wildcard": {
                    "contacts.value": {
                        "value": "*" + f.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?") + "*"
                    }
                }
            }
            for f in c.forms
        ]
    return {"bool": {"should": forms, "minimum_should_match": 1}}


def leaf(c: q.Leaf, today: dt.date, viewer: Viewer | None = None) -> Query:
    if isinstance(c, q.FreeText):
        return _free_text(c, viewer)
    if isinstance(c, q.Name):
        return _name(c)
    if isinstance(c, q.DateOfBirth):
        if c.exact is not None:
            return {"terms": {"dates_of_birth": [d.isoformat() for d in c.dates()]}}
        if c.year is not None:
            return {"terms": {"dob_years": c.years()}}
        lo, hi = c.bounds()
        bounds = {k: v.isoformat() for k, v in (("gte", lo), ("lte", hi)) if v is not None}
        return {"range": {"dates_of_birth": bounds}}
    if isinstance(c, q.Age):
        lo, hi = c.dob_range(today)
        return {"range": {"dates_of_birth": {"gte": lo.isoformat(), "lte": hi.isoformat()}}}
    if isinstance(c, q.Person):
        filters: list[Query] = [
            {"term": {f: v}}
            for f, v in (
                ("gender", c.gender and c.gender.value),
                ("ethnicity", c.ethnicity and c.ethnicity.value),
                ("nationality", c.nationality),
            )
            if v
        ]
        if any(v is not None for v in (c.height_min, c.height_max, c.build, c.hair, c.eyes)):
            described: list[Query] = []
            if c.height_min is not None or c.height_max is not None:
                described.append(
                    {
                        "range": {
                            "descriptions.height_cm": {
                                k: v
                                for k, v in (("gte", c.height_min), ("lte", c.height_max))
                                if v is not None
                            }
                        }
                    }
                )
            if c.build:
                described.append({"term": {"descriptions.build": c.build.value}})
            described += [
                _match(f"descriptions.{f}", v) for f, v in (("hair", c.hair), ("eyes", c.eyes)) if v
            ]
            filters.append(_nested("descriptions", described))
        return {"bool": {"filter": filters}}
    if isinstance(c, q.Mark):
        filters = [
            {"term": {f"marks.{f}": v}}
            for f, v in (("kind", c.kind and c.kind.value), ("location", c.location and c.location.value))
            if v
        ]
        if c.text:
            filters.append(_match("marks.description", c.text))
        return _nested("marks", filters)
    if isinstance(c, q.Identifier):
        return _nested(
            "identifiers",
            [{"term": {"identifiers.kind": c.kind.value}}, {"term": {"identifiers.value": c.value}}],
        )
    if isinstance(c, q.Address):
        filters = [{"term": {"addresses.kind": c.kind.value}}] if c.kind else []
        if c.postcode_level:
            filters.append({"term": {f"addresses.{c.postcode_level}": c.postcode}})
        if c.near:
            filters.append(
                {
                    "geo_distance": {
                        "distance": f"{c.near.radius_km}km",
                        "addresses.location": {"lat": c.near.latitude, "lon": c.near.longitude},
                    }
                }
            )
        return _nested("addresses", filters + _window("addresses", c))
    if isinstance(c, q.Vehicle):
        return _nested("vehicles", _vehicle_filters(c, with_vrm=True))
    if isinstance(c, q.Contact):
        filters = [{"term": {"contacts.kind": c.kind.value}}] if c.kind else []
        return _nested("contacts", filters + [_contact_value(c)])
    if isinstance(c, q.Offence):
        filters = []
        if c.text:
            filters.append(_match("offences.offence", c.text))
        if c.code:
            filters.append({"term": {"offences.offence_code": c.code}})
        if c.date_from or c.date_to:
            filters.append(
                {
                    "range": {
                        "offences.offence_date": {
                            k: v.isoformat() for k, v in (("gte", c.date_from), ("lte", c.date_to)) if v
                        }
                    }
                }
            )
        if c.sexual is not None:
            filters.append({"term": {"offences.sexual": c.sexual}})
        filters += [
            {"term": {f"offences.{f}": v}}
            for f, v in (
                ("victim_age_bands", c.victim_age_band and c.victim_age_band.value),
                ("victim_genders", c.victim_gender and c.victim_gender.value),
                ("victim_relationships", c.victim_relationship and c.victim_relationship.value),
            )
            if v
        ]
        if c.modus_operandi:
            filters.append(_match("offences.modus_operandi", c.modus_operandi))
        return _nested("offences", filters)
    if isinstance(c, q.Employment):
        return _match("employment", c.text)
    if isinstance(c, q.Management):
        pairs = (
            ("mappa_category", c.mappa_category and int(c.mappa_category)),
            ("mappa_level", c.mappa_level and int(c.mappa_level)),
            ("risk_level", c.risk_level and c.risk_level.value),
            ("nominal_type", c.nominal_type and c.nominal_type.value),
            ("area", c.area and c.area.value),
        )
        return {"bool": {"filter": [{"term": {f: v}} for f, v in pairs if v]}}
    raise TypeError(f"no translation for {type(c).__name__}")


HIGHLIGHT_TAGS = ("<mark>", "</mark>")


def _with_inner_hits(query: Query, name: str, c: q.Leaf | None = None) -> Query:
    """Ask for the first nested item that met the criterion, to say which alias, address or vehicle
    matched; for free text, with the words highlighted in that piece (HTML-escaped, the words in <mark>)."""
    if "nested" in query:
        inner: Query = {"name": name, "size": 1, "_source": True}
        if isinstance(c, q.FreeText):
            inner["highlight"] = {
                "encoder": "html",
                "pre_tags": [HIGHLIGHT_TAGS[0]],
                "post_tags": [HIGHLIGHT_TAGS[1]],
                "fields": {
                    "narrative.text": {
                        "highlight_query": {"match": {"narrative.text": {"query": c.text}}},
                        "number_of_fragments": 1,
                        "fragment_size": 160,
                        "no_match_size": 160,
                    }
                },
            }
        return {"nested": {**query["nested"], "inner_hits": inner}}
    # A person criterion: its description conditions are one nested query among the filters
    if "bool" in query:
        return {
            "bool": {
                **query["bool"],
                "filter": [_with_inner_hits(f, name) for f in query["bool"].get("filter", [])],
            }
        }
    return query


def translate(
    group: q.Group, today: dt.date, prefix: str = "", positive: bool = True, viewer: Viewer | None = None
) -> Query:
    children = []
    for i, c in enumerate(group.criteria):
        path = f"{prefix}{i}"
        if isinstance(c, q.Group):
            children.append(translate(c, today, f"{path}.", positive and group.op != "not", viewer))
        else:
            name = f"{path}:{c.type}"
            inner = positive and group.op != "not" and c.type in NESTED
            graded = _graded(c)
            if graded is not None:
                children.append(
                    {
                        "bool": {
                            "must": [_with_inner_hits(graded, name, c) if inner else graded],
                            "_name": name,
                        }
                    }
                )
                continue
            query = leaf(c, today, viewer)
            if inner:
                query = _with_inner_hits(query, name, c)
            boost = WEIGHTS.get(c.type, 1.0)
            children.append({"constant_score": {"filter": query, "boost": boost, "_name": name}})
    if group.op == "and":
        return {"bool": {"must": children}}
    if group.op == "or":
        return {"bool": {"should": children, "minimum_should_match": 1}}
    return {"bool": {"must_not": children}}


class ElasticBackend:
    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    def body(self, request: q.SearchRequest, today: dt.date, viewer: Viewer) -> dict[str, Any]:
        sort: list[Any] = [{"_score": "desc"}, {"nominal_id": "asc"}]
        if request.sort == "surname":
            sort = [
                {
                    "names.surname": {
                        "order": "asc",
                        "nested": {"path": "names", "filter": {"term": {"names.kind": "primary"}}},
                    }
                },
                {"nominal_id": "asc"},
            ]
        scope: list[Query] = [{"terms": {"status": statuses(request)}}]
        # Stubs for this viewer take no part: not hits, not counted, not in facets (see Viewer)
        if viewer.restricted_stub:
            scope.append(
                {
                    "bool": {
                        "should": [{"term": {"restricted": False}}, {"term": {"area": viewer.area}}],
                        "minimum_should_match": 1,
                    }
                }
            )
        only = request.only()
        if only is not None:  # a watched search evaluated against the records just changed
            scope.append({"ids": {"values": list(only)}})
        return {
            "query": {"bool": {"filter": scope, "must": [translate(request.query, today, viewer=viewer)]}},
            "sort": sort,
            "track_scores": True,
            "track_total_hits": True,
            # a page inside the result window (the request model keeps it there), or the page after a cursor's
            # sort key with one hit more, to know whether another page follows
            **(
                {"from": (request.page - 1) * request.page_size, "size": request.page_size}
                if request.after() is None
                else {"search_after": request.after(), "size": request.page_size + 1}
            ),
            # the dates of birth only when a date of birth criterion is to say how it matched
            "source": {"includes": ["dates_of_birth"]}
            if any(isinstance(c, q.DateOfBirth) for _, c in q.leaves(request.query))
            else False,
            "aggs": {f: {"terms": {"field": f, "size": 100}} for f in FACETS},
        }

    def _run(self, body: dict[str, Any], snapshot: str | None) -> dict[str, Any]:
        where: dict[str, Any] = (
            {"pit": {"id": snapshot, "keep_alive": SNAPSHOT_KEEP_ALIVE}}
            if snapshot
            else {"index": self.index.spec.alias}
        )
        try:
            return dict(self.index.client.search(**where, **body))
        except (
            BadRequestError
        ) as exc:  # the engine's own limits (clauses, expansions): the query's fault, not the server's
            raise SearchRefused(
                "query_too_costly",
                f"the search engine refused this query ({_reason(exc)}): make it narrower",
                "body.query",
            ) from None
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"{type(exc).__name__}: {str(exc)[:300]}") from None

    def search(self, request: q.SearchRequest, today: dt.date, viewer: Viewer) -> Results:
        body = self.body(request, today, viewer)
        snapshot = request.snapshot()
        if request.after() is not None and snapshot is None:
            # A walk's second page opens the point in time the rest of the walk reads (a page found by its
            # number, which most searches stop at, opens none)
            snapshot = self._snapshot()
        response = None
        if snapshot:
            # A point in time that has expired (or an id the engine does not know): the index as it is now,
            # from the same sort key: nothing is skipped or repeated that did not change meanwhile.
            try:
                response = self._run(
                    {**body, "search_after": [*body["search_after"], LAST_SHARD_DOC]}, snapshot
                )
            except (SearchRefused, SearchUnavailable):
                snapshot = None
        if response is None:
            response = self._run(body, None)
        order = leaf_order(request)
        raw = response["hits"]["hits"]
        if request.after() is None:
            more = (request.page - 1) * request.page_size + len(raw) < response["hits"]["total"]["value"]
        else:
            more, raw = len(raw) > request.page_size, raw[: request.page_size]
        hits = []
        criteria = dict(q.leaves(request.query))
        for h in raw:
            inner = h.get("inner_hits", {})
            doc = {"dates_of_birth": (h.get("_source") or {}).get("dates_of_birth", [])}
            matched, hows, highlights = [], {}, {}
            for name in sorted(h.get("matched_queries", []), key=order.__getitem__):
                found = inner.get(name, {}).get("hits", {}).get("hits", [])
                item = found[0]["_source"] if found else None
                text = label(found[0]["_nested"]["field"], found[0]["_source"]) if found else None
                matched.append(name + (f" ({text})" if text else ""))
                if explained := how(criteria[name], item, doc):
                    hows[name] = explained
                if found and (fragments := found[0].get("highlight", {}).get("narrative.text")):
                    highlights[name] = fragments[0]
            hits.append(
                Hit(
                    uuid.UUID(h["_id"]),
                    float(h["_score"] or 0.0),
                    matched,
                    list(h["sort"][:2]),
                    hows,
                    highlights,
                )
            )
        facets = {
            f: {str(b["key"]): b["doc_count"] for b in response["aggregations"][f]["buckets"]} for f in FACETS
        }
        if more and snapshot:
            snapshot = response.get("pit_id") or snapshot
        elif snapshot:  # the walk's last page: the point in time is no longer needed
            with contextlib.suppress(ApiError, TransportError):
                self.index.client.close_point_in_time(id=response.get("pit_id") or snapshot)
        return Results(
            total=response["hits"]["total"]["value"],
            hits=hits,
            facets=facets,
            more=more,
            snapshot=snapshot if more else None,
        )

    def _snapshot(self) -> str | None:
        """A point in time on the index for this page and the ones after (None if the engine will not open
        one: the walk then reads the live index, as the SQL backend's always does)."""
        try:
            return str(
                self.index.client.open_point_in_time(
                    index=self.index.spec.alias, keep_alive=SNAPSHOT_KEEP_ALIVE
                )["id"]
            )
        except (ApiError, TransportError):
            return None


def _reason(exc: BadRequestError) -> str:
    try:
        causes = exc.body["error"]["root_cause"]
        return str(causes[0]["reason"])[:200]
    except (KeyError, IndexError, TypeError):
        return exc.message
