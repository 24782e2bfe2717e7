"""The conformance suite: a fixture register and scenarios with hand-written expected hits.

Both backends must return exactly the expected records for every scenario. The expectations are facts about
the fixture people, written by hand, never computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from register.domain.enums import NominalStatus
from register.domain.record import ChronologyEntry, NewNominal, Section
from register.domain.rules import parse_item
from register.domain.values import check_letter
from register.nominals import service
from register.store import models as m
from register.store.uow import UnitOfWork
from tests.factories import OFFICER

TODAY = dt.date(2026, 1, 1)
PNC_P1 = f"2003/0412876{check_letter('030412876')}"


def _header(**kw: Any) -> dict[str, Any]:
    base = {
        "nominal_type": "rso",
        "area": "kent",
        "managing_unit": "Unit",
        "lead_agency": "police",
        "mappa_category": 1,
        "mappa_level": 1,
    }
    return base | kw


PEOPLE: dict[str, dict[str, Any]] = {
    "P1": {
        "header": _header(),
        "identity": {
            "forenames": "Daniel James",
            "surname": "Hartley",
            "date_of_birth": "1984-03-17",
            "gender": "male",
            "ethnicity": "W1",
            "nationality": "GBR",
        },
        "items": [
            (Section.ALIASES, {"forenames": "Danny", "surname": "Hartley", "name_type": "nickname"}),
            (
                Section.ALIASES,
                {
                    "forenames": "Daniel",
                    "surname": "Harley",
                    "name_type": "alias",
                    "date_of_birth": "1984-07-03",
                },
            ),
            (Section.IDENTIFIERS, {"kind": "pnc", "value": PNC_P1}),
            (Section.IDENTIFIERS, {"kind": "ni", "value": "JT482193C"}),
            (
                Section.DESCRIPTIONS,
                {
                    "observed_on": "2024-02-01",
                    "height_cm": 180,
                    "build": "stocky",
                    "hair": "brown short",
                    "eyes": "blue",
                },
            ),
            (
                Section.MARKS,
                {"kind": "tattoo", "location": "left_forearm", "description": "dragon, green and red"},
            ),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": ["14 Tonbridge Road"],
                    "town": "Maidstone",
                    "postcode": "ME16 8RP",
                    "latitude": 51.2716,
                    "longitude": 0.5090,
                    "date_from": "2021-06-01",
                },
            ),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": ["3 Station Road"],
                    "town": "Canterbury",
                    "postcode": "CT1 2AA",
                    "latitude": 51.2790,
                    "longitude": 1.0790,
                    "date_from": "2015-01-01",
                    "date_to": "2021-05-31",
                },
            ),
            (
                Section.VEHICLES,
                {
                    "vrm": "GK19 XBW",
                    "make": "Ford",
                    "model": "Transit",
                    "colour": "Blue",
                    "date_from": "2022-01-10",
                },
            ),
            (Section.CONTACTS, {"kind": "phone", "value": "07700 900123"}),
            (Section.CONTACTS, {"kind": "online_identity", "value": "dhart84", "platform": "Snapchat"}),
            (
                Section.OFFENCES,
                {
                    "offence": "Sexual assault on a female",
                    "offence_date": "2011-08-02",
                    "conviction_date": "2012-01-20",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 36},
                    "victims": [{"age_band": "adult", "gender": "female", "relationship": "stranger"}],
                    "modus_operandi": "approached lone women walking home late at night near the river path",
                },
            ),
            (
                Section.EMPLOYMENT,
                {"kind": "employment", "organisation": "Medway Removals Ltd", "role": "driver"},
            ),
            (
                Section.RISK_ASSESSMENTS,
                {"tool": "arms", "assessed_on": "2025-03-01", "assessor": "DC", "rosh": {"public": "medium"}},
            ),
        ],
        "chronology": ["Attended the drop-in at the community centre"],
    },
    "P2": {
        "header": _header(mappa_level=2),
        "identity": {
            "forenames": "Mark",
            "surname": "O'Sullivan",
            "date_of_birth": "1979-11-02",
            "gender": "male",
            "nationality": "IRL",
        },
        "items": [
            (Section.ALIASES, {"forenames": "Muhammad", "surname": "Ali-Khan", "name_type": "alias"}),
            (
                Section.ADDRESSES,
                {
                    "kind": "approved_premises",
                    "lines": ["Westgate AP"],
                    "postcode": "CT2 8AF",
                    "latitude": 51.2823,
                    "longitude": 1.0740,
                    "date_from": "2025-08-20",
                },
            ),
            (
                Section.OFFENCES,
                {
                    "offence": "Making indecent photographs of a child",
                    "offence_date": "2024-05-01",
                    "conviction_date": "2024-10-03",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 20},
                    "victims": [{"age_band": "under_13", "gender": "female", "relationship": "stranger"}],
                },
            ),
            (Section.MARKS, {"kind": "scar", "location": "face", "description": "scar over left eyebrow"}),
            (
                Section.RISK_ASSESSMENTS,
                {
                    "tool": "oasys",
                    "assessed_on": "2025-08-01",
                    "assessor": "PO",
                    "rosh": {"children": "high", "public": "medium"},
                },
            ),
            (  # police only: no other agency's free text may find it, count it or show it
                Section.INTELLIGENCE,
                {
                    "received_on": "2025-09-01",
                    "text": "Seen loitering by the school gate on Bower Lane most afternoons",
                    "scheme": "3x5x2",
                    "source_evaluation": "B",
                    "intelligence_assessment": 2,
                    "handling_code": "C",
                    "handling_conditions": "police only",
                    "audience": ["police"],
                },
            ),
        ],
    },
    "P3": {
        "header": _header(nominal_type="vo", mappa_category=2, mappa_level=3, restricted=True),
        "chronology": ["Seen at the marina in Chatham"],
        "identity": {
            "forenames": "Lee",
            "surname": "Brannigan",
            "date_of_birth": "1990-05-29",
            "gender": "male",
        },
        "items": [
            (
                Section.VEHICLES,
                {
                    "vrm": "KX63 ABC",
                    "make": "Vauxhall",
                    "model": "Astra",
                    "colour": "Silver",
                    "relationship": "owner",
                },
            ),
            (
                Section.OFFENCES,
                {
                    "offence": "Wounding with intent",
                    "conviction_date": "2015-06-12",
                    "disposal": {"kind": "imprisonment", "custody_months": 120},
                    "victims": [{"age_band": "adult", "gender": "female", "relationship": "known"}],
                },
            ),
            (
                Section.MARKS,
                {"kind": "tattoo", "location": "right_forearm", "description": "rose with dagger"},
            ),
        ],
    },
    "P4": {
        "header": _header(area="essex"),
        "chronology": ["Told his offender manager he collects his grandson from the school gate"],
        "identity": {
            "forenames": "Stephen",
            "surname": "Ashworth",
            "date_of_birth": "1962-12-08",
            "gender": "male",
        },
        "items": [
            (Section.ALIASES, {"forenames": "Steven", "surname": "Ashford"}),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": ["7 Moulsham Street"],
                    "postcode": "CM2 0HX",
                    "latitude": 51.7270,
                    "longitude": 0.4730,
                    "date_from": "2019-02-01",
                },
            ),
            (
                Section.OFFENCES,
                {
                    "offence": "Indecent assault on a male",
                    "offence_date": "1998-06-01",
                    "conviction_date": "1999-04-21",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 48},
                    "victims": [{"age_band": "under_13", "gender": "male", "relationship": "known"}],
                },
            ),
            (
                Section.VEHICLES,
                {
                    "vrm": "AB12 CDE",
                    "make": "Ford",
                    "model": "Fiesta",
                    "colour": "Red",
                    "date_from": "2010-01-01",
                    "date_to": "2015-12-31",
                },
            ),
        ],
    },
    "P5": {
        "header": _header(area="essex", nominal_type="pdp", mappa_category=None, mappa_level=None),
        "identity": {
            "forenames": "Kieran",
            "surname": "Doyle",
            "date_of_birth": "1996-08-14",
            "gender": "male",
        },
        "items": [
            (Section.CONTACTS, {"kind": "email", "value": "k.doyle96@example.com"}),
            (
                Section.EMPLOYMENT,
                {
                    "kind": "employment",
                    "organisation": "Southend Leisure Centre",
                    "role": "lifeguard",
                    "access_to_children": True,
                },
            ),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": ["1 Pier Hill"],
                    "postcode": "SS1 1AA",
                    "latitude": 51.5390,
                    "longitude": 0.7120,
                    "date_from": "2024-12-01",
                },
            ),
        ],
    },
    "P6": {
        "header": _header(),
        "identity": {
            "forenames": "John",
            "surname": "Smith",
            "date_of_birth": "1950-01-01",
            "gender": "male",
        },
        "items": [
            (Section.MARKS, {"kind": "tattoo", "location": "left_forearm", "description": "anchor"}),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": ["2 Tonbridge Road"],
                    "postcode": "ME16 8RP",
                    "date_from": "2000-01-01",
                    "date_to": "2010-01-01",
                },
            ),
        ],
        "archived": True,
    },
    "P7": {
        "header": _header(nominal_type="vo", mappa_category=2),
        "identity": {
            "forenames": "Steve",
            "surname": "Stephens",
            "date_of_birth": "1988-07-03",
            "gender": "male",
        },
        "items": [
            (
                Section.VEHICLES,
                {
                    "vrm": "GK19 XBV",
                    "make": "Ford",
                    "model": "Transit",
                    "colour": "Black",
                    "date_from": "2023-01-01",
                },
            ),
            (Section.MARKS, {"kind": "tattoo", "location": "left_forearm", "description": "eagle"}),
        ],
    },
    "P8": {
        "header": _header(nominal_type="other_dangerous", mappa_category=3),
        "identity": {
            "forenames": "Danielle",
            "surname": "Hartly",
            "date_of_birth": "1984-03-17",
            "gender": "female",
        },
        "items": [],
    },
}


def load(uow: UnitOfWork) -> dict[str, uuid.UUID]:
    ids: dict[str, uuid.UUID] = {}
    for key, person in PEOPLE.items():
        new = NewNominal.model_validate(
            {**person["header"], "identity": person["identity"]}, context={"today": TODAY}
        )
        nid = service.create_nominal(uow, OFFICER, new)
        version = 1
        for section, payload in person["items"]:
            _, version = service.add_item(
                uow, OFFICER, nid, parse_item(section, payload, TODAY), expected_version=version
            )
        for summary in ["fixture", *person.get("chronology", [])]:
            _, version = service.append_chronology(
                uow,
                OFFICER,
                nid,
                ChronologyEntry(
                    occurred_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), kind="contact", summary=summary
                ),
                expected_version=version,
            )
        if person.get("archived"):
            uow.session.execute(
                m.Nominal.__table__.update()
                .where(m.Nominal.id == nid)
                .values(status=NominalStatus.ARCHIVED.value)
            )
        ids[key] = nid
    return ids


@dataclass
class Scenario:
    name: str
    query: dict[str, Any]
    expected: set[str]
    include_archived: bool = False
    order: list[str] | None = None  # when ranking matters: the hits that must come first, in this order
    why: dict[str, list[str]] = field(default_factory=dict)  # expected "why it matched" for some hits
    how: dict[str, dict[str, str]] = field(default_factory=dict)  # expected "how it matched" for some hits
    # expected scores for some hits: a criterion's weight times the grade of the best way it matched
    # (docs/investigator-search.md "Ranking"), worked out by hand
    scores: dict[str, float] = field(default_factory=dict)


def _q(*criteria: dict[str, Any], op: str = "and") -> dict[str, Any]:
    return {"type": "group", "op": op, "criteria": list(criteria)}


MAIDSTONE = {"latitude": 51.2700, "longitude": 0.5200}
CANTERBURY = {"latitude": 51.2800, "longitude": 1.0700}

SCENARIOS = [
    Scenario("surname exact", _q({"type": "name", "value": "Hartley"}), {"P1"}),
    Scenario("full name exact", _q({"type": "name", "value": "Daniel Hartley"}), {"P1"}),
    Scenario(
        "alias surname",
        _q({"type": "name", "value": "Harley"}),
        {"P1"},
        why={"P1": ["0:name (alias name daniel harley)"]},
    ),
    Scenario("name tokens must share one name", _q({"type": "name", "value": "Danny Harley"}), set()),
    Scenario("phonetic surname", _q({"type": "name", "value": "Hartlee", "mode": "phonetic"}), {"P1", "P8"}),
    Scenario("fuzzy surname", _q({"type": "name", "value": "Hartlee", "mode": "fuzzy"}), {"P1", "P8"}),
    Scenario("fuzzy is not loose", _q({"type": "name", "value": "Brannagin", "mode": "fuzzy"}), {"P3"}),
    Scenario(
        "nickname to formal name", _q({"type": "name", "value": "Dan Hartley", "mode": "nickname"}), {"P1"}
    ),
    Scenario("no nickname expansion when exact", _q({"type": "name", "value": "Dan Hartley"}), set()),
    Scenario("nickname both ways", _q({"type": "name", "value": "Steve", "mode": "nickname"}), {"P4", "P7"}),
    Scenario("apostrophes folded", _q({"type": "name", "value": "osullivan"}), {"P2"}),
    # Names as people say them (issue #19 D)
    Scenario(
        "metaphone misses a spelling", _q({"type": "name", "value": "Brannagin", "mode": "phonetic"}), set()
    ),
    Scenario(
        "double metaphone's alternate key",
        _q({"type": "name", "value": "Brannagin", "mode": "phonetic", "algorithm": "double_metaphone"}),
        {"P3"},
        how={"P3": {"0:name": "brannigan sounds like brannagin (double_metaphone)"}},
    ),
    Scenario(
        "nysiis",
        _q({"type": "name", "value": "Brannagin", "mode": "phonetic", "algorithm": "nysiis"}),
        {"P3"},
    ),
    Scenario(
        "any phonetic key",
        _q({"type": "name", "value": "Brannagin", "mode": "phonetic", "algorithm": "any"}),
        {"P3"},
        how={"P3": {"0:name": "brannigan sounds like brannagin (double_metaphone, soundex, nysiis)"}},
    ),
    Scenario(
        "soundex",
        _q({"type": "name", "value": "Hartlee", "mode": "phonetic", "algorithm": "soundex"}),
        {"P1", "P8"},
    ),
    Scenario(
        "soundex is looser than metaphone",
        _q({"type": "name", "value": "Stephens", "mode": "phonetic", "algorithm": "soundex"}),
        {"P4", "P7"},
        how={"P4": {"0:name": "stephen sounds like stephens (soundex)"}, "P7": {"0:name": "exact stephens"}},
    ),
    Scenario(
        "metaphone keeps the final s", _q({"type": "name", "value": "Stephens", "mode": "phonetic"}), {"P7"}
    ),
    Scenario(
        "double metaphone: Schmidt sounds like Smith",
        _q({"type": "name", "value": "Schmidt", "mode": "phonetic", "algorithm": "double_metaphone"}),
        {"P6"},
        include_archived=True,
    ),
    Scenario(
        "metaphone: Schmidt does not",
        _q({"type": "name", "value": "Schmidt", "mode": "phonetic"}),
        set(),
        include_archived=True,
    ),
    Scenario(
        "double metaphone: Doyel",
        _q({"type": "name", "value": "Doyel", "mode": "phonetic", "algorithm": "double_metaphone"}),
        {"P5"},
    ),
    Scenario(
        "transliterated forename",
        _q({"type": "name", "value": "Mohammed", "mode": "nickname"}),
        {"P2"},
        why={"P2": ["0:name (alias name muhammad ali-khan)"]},
        how={"P2": {"0:name": "muhammad a variant of mohammed"}},
    ),
    Scenario("no variants when exact", _q({"type": "name", "value": "Mohammed"}), set()),
    Scenario("half of a double-barrelled surname", _q({"type": "name", "value": "Khan"}), {"P2"}),
    Scenario(
        "double-barrelled surname without its hyphen", _q({"type": "name", "value": "ali khan"}), {"P2"}
    ),
    Scenario("names in any order", _q({"type": "name", "value": "Khan-Ali, Muhammad"}), {"P2"}),
    Scenario("surname first, with a comma", _q({"type": "name", "value": "Hartley, Daniel James"}), {"P1"}),
    Scenario(
        "initial and surname",
        _q({"type": "name", "value": "D. Hartley"}),
        {"P1"},
        how={"P1": {"0:name": "initial d of daniel; exact hartley"}},
    ),
    Scenario("second forename's initial", _q({"type": "name", "value": "J Hartley"}), {"P1"}),
    Scenario("initial that is no forename's", _q({"type": "name", "value": "S. Hartley"}), set()),
    Scenario("an initial is a forename's", _q({"type": "name", "value": "H Daniel"}), set()),
    Scenario("initial with a near surname", _q({"type": "name", "value": "D Hartly"}), {"P8"}),
    Scenario("surname prefix", _q({"type": "name", "value": "Hart*"}), {"P1", "P8"}),
    Scenario(
        "prefixes of both names, any order",
        _q({"type": "name", "value": "hart* dan*"}),
        {"P1", "P8"},
        how={"P8": {"0:name": "prefix hart* of hartly; prefix dan* of danielle"}},
    ),
    Scenario("prefix of a restricted record's name", _q({"type": "name", "value": "Bran*"}), {"P3"}),
    Scenario(
        "a surname only as a surname", _q({"type": "name", "value": "Hartley", "part": "surname"}), {"P1"}
    ),
    Scenario(
        "a surname not as a forename", _q({"type": "name", "value": "Hartley", "part": "forenames"}), set()
    ),
    Scenario(
        "fuzzy in forenames only",
        _q({"type": "name", "value": "Stephens", "mode": "fuzzy", "part": "forenames"}),
        {"P4"},
        how={"P4": {"0:name": "stephen fuzzy for stephens, 1 edit"}},
    ),
    Scenario(
        "fuzzy in surnames only",
        _q({"type": "name", "value": "Stephens", "mode": "fuzzy", "part": "surname"}),
        {"P7"},
    ),
    Scenario("fuzzy in any part", _q({"type": "name", "value": "Stephens", "mode": "fuzzy"}), {"P4", "P7"}),
    Scenario(
        "nicknames of a forename",
        _q({"type": "name", "value": "Steve", "mode": "nickname", "part": "forenames"}),
        {"P4", "P7"},
    ),
    Scenario("dob exact", _q({"type": "date_of_birth", "exact": "1984-03-17"}), {"P1", "P8"}),
    Scenario("dob of an alias", _q({"type": "date_of_birth", "exact": "1984-07-03"}), {"P1"}),
    Scenario(
        "dob day and month transposed",
        _q({"type": "date_of_birth", "exact": "1988-03-07", "transposed": True}),
        {"P7"},
        how={"P7": {"0:date_of_birth": "day and month swapped"}},
    ),
    Scenario("dob not transposed unless asked", _q({"type": "date_of_birth", "exact": "1988-03-07"}), set()),
    Scenario("dob year", _q({"type": "date_of_birth", "year": 1990}), {"P3"}),
    Scenario(
        "dob range",
        _q({"type": "date_of_birth", "date_from": "1960-01-01", "date_to": "1980-12-31"}),
        {"P2", "P4"},
    ),
    Scenario("age in the 30s", _q({"type": "age", "min": 30, "max": 39, "at": "2026-01-01"}), {"P3", "P7"}),
    Scenario("gender", _q({"type": "person", "gender": "female"}), {"P8"}),
    Scenario(
        "height and build on one description",
        _q({"type": "person", "height_min": 175, "height_max": 185, "build": "stocky"}),
        {"P1"},
    ),
    Scenario(
        "mark text on a body location",
        _q({"type": "mark", "text": "dragon", "location": "left_forearm"}),
        {"P1"},
    ),
    Scenario(
        "mark conditions on the same mark",
        _q({"type": "mark", "text": "dragon", "location": "right_forearm"}),
        set(),
    ),
    Scenario(
        "tattoos on the left forearm",
        _q({"type": "mark", "kind": "tattoo", "location": "left_forearm"}),
        {"P1", "P7"},
    ),
    Scenario(
        "archived only when asked",
        _q({"type": "mark", "kind": "tattoo", "location": "left_forearm"}),
        {"P1", "P6", "P7"},
        include_archived=True,
    ),
    Scenario(
        "PNC ID in its short form",
        _q({"type": "identifier", "kind": "pnc", "value": f"03/412876{PNC_P1[-1]}"}),
        {"P1"},
    ),
    Scenario(
        "NI number with spaces", _q({"type": "identifier", "kind": "ni", "value": "jt 48 21 93 c"}), {"P1"}
    ),
    Scenario("full postcode", _q({"type": "address", "postcode": "me16 8rp"}), {"P1"}),
    Scenario("postcode district", _q({"type": "address", "postcode": "ME16"}), {"P1"}),
    Scenario("postcode sector", _q({"type": "address", "postcode": "CT2 8"}), {"P2"}),
    Scenario(
        "within 2 km of a point", _q({"type": "address", "near": {**MAIDSTONE, "radius_km": 2}}), {"P1"}
    ),
    Scenario(
        "near a point at any time since 2020",
        _q({"type": "address", "near": {**CANTERBURY, "radius_km": 3}, "since": "2020-01-01"}),
        {"P1", "P2"},
        why={"P1": ["0:address (home address CT1 2AA)"]},
    ),
    Scenario(
        "near a point since 2022",
        _q({"type": "address", "near": {**CANTERBURY, "radius_km": 3}, "since": "2022-01-01"}),
        {"P2"},
    ),
    Scenario("partial VRM with ?", _q({"type": "vehicle", "vrm": "GK19?BW"}), {"P1"}),
    Scenario("partial VRM with *", _q({"type": "vehicle", "vrm": "gk19*"}), {"P1", "P7"}),
    Scenario(
        "make and colour on one vehicle", _q({"type": "vehicle", "make": "ford", "colour": "blue"}), {"P1"}
    ),
    Scenario(
        "vehicle conditions on the same vehicle",
        _q({"type": "vehicle", "make": "vauxhall", "colour": "black"}),
        set(),
    ),
    Scenario(
        "vehicle within a time window",
        _q({"type": "vehicle", "vrm": "AB12CDE", "until": "2012-01-01"}),
        {"P4"},
    ),
    Scenario(
        "vehicle outside a time window",
        _q({"type": "vehicle", "vrm": "AB12CDE", "since": "2020-01-01"}),
        set(),
    ),
    Scenario(
        "phone number in another spelling",
        _q({"type": "contact", "kind": "phone", "value": "+44 7700 900123"}),
        {"P1"},
    ),
    Scenario("partial email", _q({"type": "contact", "value": "doyle96", "partial": True}), {"P5"}),
    # Identifiers as people give them (issue #19 C)
    Scenario("phone with dashes", _q({"type": "contact", "kind": "phone", "value": "07700-900-123"}), {"P1"}),
    Scenario(
        "phone with +44 and no kind",
        _q({"type": "contact", "value": "+44 7700 900123"}),
        {"P1"},
        how={"P1": {"0:contact": "exact"}},
    ),
    Scenario(
        "phone with +44 (0)", _q({"type": "contact", "kind": "phone", "value": "+44 (0)7700 900123"}), {"P1"}
    ),
    Scenario(
        "part of a phone number across a space",
        _q({"type": "contact", "kind": "phone", "value": "7700-900", "partial": True}),
        {"P1"},
        how={"P1": {"0:contact": "part"}},
    ),
    Scenario(
        "start of a phone number given with +44",
        _q({"type": "contact", "kind": "phone", "value": "+44 7700", "partial": True}),
        {"P1"},
    ),
    Scenario(
        "email in any case",
        _q({"type": "contact", "kind": "email", "value": "K.Doyle96@Example.COM"}),
        {"P5"},
    ),
    Scenario("email in any case, no kind", _q({"type": "contact", "value": "K.DOYLE96@example.com"}), {"P5"}),
    Scenario(
        "registration with spaces and in lower case", _q({"type": "vehicle", "vrm": "gk19 xbw"}), {"P1"}
    ),
    Scenario(
        "registration in part from the start",
        _q({"type": "vehicle", "vrm": "GK19", "partial": True}),
        {"P1", "P7"},
        how={"P1": {"0:vehicle": "begins with GK19"}},
    ),
    Scenario(
        "registration in part from the end",
        _q({"type": "vehicle", "vrm": "x bw", "partial": True}),
        {"P1"},
        how={"P1": {"0:vehicle": "ends with XBW"}},
    ),
    Scenario(
        "registration end of a restricted record",
        _q({"type": "vehicle", "vrm": "ABC", "partial": True}),
        {"P3"},
    ),
    Scenario(
        "registration part is not the middle", _q({"type": "vehicle", "vrm": "19XB", "partial": True}), set()
    ),
    Scenario("registration part is whole unless partial", _q({"type": "vehicle", "vrm": "XBW"}), set()),
    Scenario("full postcode without its space", _q({"type": "address", "postcode": "me168rp"}), {"P1"}),
    Scenario("postcode outward code in lower case", _q({"type": "address", "postcode": "ct2"}), {"P2"}),
    Scenario(
        "dob a year out when asked",
        _q({"type": "date_of_birth", "exact": "1983-03-17", "year_either_side": True}),
        {"P1", "P8"},
        how={"P1": {"0:date_of_birth": "year +1"}},
    ),
    Scenario("dob not a year out unless asked", _q({"type": "date_of_birth", "exact": "1983-03-17"}), set()),
    Scenario(
        "dob transposed and a year out",
        _q({"type": "date_of_birth", "exact": "1989-03-07", "transposed": True, "year_either_side": True}),
        {"P7"},
        how={"P7": {"0:date_of_birth": "day and month swapped, year -1"}},
    ),
    Scenario(
        "birth year either side",
        _q({"type": "date_of_birth", "year": 1985, "year_either_side": True}),
        {"P1", "P8"},
        how={"P1": {"0:date_of_birth": "year -1"}},
    ),
    Scenario("birth year exactly", _q({"type": "date_of_birth", "year": 1985}), set()),
    Scenario(
        "dob range a year wider at each end",
        _q(
            {
                "type": "date_of_birth",
                "date_from": "1985-01-01",
                "date_to": "1987-12-31",
                "year_either_side": True,
            }
        ),
        {"P1", "P7", "P8"},
    ),
    Scenario(
        "approximate age, one year either side",
        _q({"type": "age", "about": 37, "give_or_take": 1, "at": "2026-01-01"}),
        {"P7"},
    ),
    Scenario(
        "approximate age, two years either side",
        _q({"type": "age", "about": 41, "at": "2026-01-01"}),
        {"P1", "P8"},
    ),
    Scenario(
        "online username", _q({"type": "contact", "kind": "online_identity", "value": "@dhart84"}), {"P1"}
    ),
    Scenario("offence text", _q({"type": "offence", "text": "sexual assault"}), {"P1"}),
    Scenario(
        "victim profile on one offence",
        _q({"type": "offence", "victim_age_band": "under_13", "victim_gender": "male"}),
        {"P4"},
    ),
    Scenario("modus operandi", _q({"type": "offence", "modus_operandi": "river path"}), {"P1"}),
    Scenario(
        "offence date range",
        _q({"type": "offence", "date_from": "2024-01-01", "date_to": "2024-12-31"}),
        {"P2"},
    ),
    Scenario("employment text", _q({"type": "employment", "text": "lifeguard"}), {"P5"}),
    Scenario("MAPPA category", _q({"type": "management", "mappa_category": 2}), {"P3", "P7"}),
    Scenario("MAPPA level", _q({"type": "management", "mappa_level": 3}), {"P3"}),
    Scenario("risk level", _q({"type": "management", "risk_level": "high"}), {"P2"}),
    Scenario(
        "OR group",
        _q({"type": "name", "value": "Doyle"}, {"type": "vehicle", "vrm": "KX63*"}, op="or"),
        {"P3", "P5"},
        why={"P5": ["0:name (primary name kieran doyle)"], "P3": ["1:vehicle (vehicle KX63ABC)"]},
    ),
    Scenario(
        "NOT group",
        _q({"type": "management", "area": "kent"}, _q({"type": "management", "mappa_category": 1}, op="not")),
        {"P3", "P7", "P8"},
    ),
    Scenario(
        "the major-enquiry example",
        _q(
            {"type": "age", "min": 30, "max": 49, "at": "2026-01-01"},
            {"type": "mark", "kind": "tattoo", "location": "left_forearm"},
            {"type": "vehicle", "vrm": "GK19*", "colour": "blue"},
            {"type": "address", "near": {**MAIDSTONE, "radius_km": 5}, "since": "2020-01-01"},
        ),
        {"P1"},
        why={
            "P1": [
                "0:age",
                "1:mark (tattoo on left_forearm)",
                "2:vehicle (vehicle GK19XBW)",
                "3:address (home address ME16 8RP)",
            ]
        },
    ),
    Scenario(
        "free text: a chronology summary's words",
        _q({"type": "text", "text": "Community CENTRE"}),
        {"P1"},
        why={"P1": ["0:text (words in chronology entry)"]},
        how={"P1": {"0:text": "free text"}},
    ),
    Scenario(
        "free text: the words in any order, in intelligence and a chronology entry",
        _q({"type": "text", "text": "gate school"}),
        {"P2", "P4"},
        why={"P2": ["0:text (words in intelligence)"], "P4": ["0:text (words in chronology entry)"]},
    ),
    Scenario(
        "free text: every word in one piece, not spread over two",
        _q({"type": "text", "text": "dragon centre"}),
        set(),
    ),
    Scenario(
        "free text: a mark's description",
        _q({"type": "text", "text": "dragon"}),
        {"P1"},
        why={"P1": ["0:text (words in mark description)"]},
    ),
    Scenario(
        "free text: only in the sources asked for",
        _q({"type": "text", "text": "dragon", "sources": ["chronology", "intelligence"]}),
        set(),
    ),
    Scenario(
        "free text: modus operandi and employment",
        _q(
            {"type": "text", "text": "river path"},
            {"type": "text", "text": "removals", "sources": ["employment"]},
        ),
        {"P1"},
        why={"P1": ["0:text (words in modus operandi)", "1:text (words in employment)"]},
    ),
    Scenario(
        "free text: whole words only",
        _q({"type": "text", "text": "communit"}),
        set(),
    ),
    Scenario(
        "free text: a restricted record's chronology (its own area only)",
        _q({"type": "text", "text": "marina"}),
        {"P3"},
    ),
    Scenario(
        "free text in an OR group with a name",
        _q({"type": "text", "text": "grandson"}, {"type": "name", "value": "Doyle"}, op="or"),
        {"P4", "P5"},
    ),
    Scenario(
        "ranked by how many criteria match",
        _q(
            {"type": "name", "value": "Hartley"},
            {"type": "date_of_birth", "exact": "1984-03-17"},
            {"type": "mark", "location": "left_forearm"},
            op="or",
        ),
        {"P1", "P7", "P8"},
        order=["P1"],
        scores={"P1": 3.0, "P7": 1.0, "P8": 1.0},
    ),
    # Ranking grades how well each criterion matched (issue #19 point 4): exact above variant above phonetic
    # above fuzzy, a name's words summed in its best name, stronger identifiers weighing more
    Scenario(
        "graded: an exact surname above a fuzzy one",
        _q({"type": "name", "value": "Hartley", "mode": "fuzzy"}),
        {"P1", "P8"},
        order=["P1", "P8"],
        scores={"P1": 1.0, "P8": 0.625},
        why={"P1": ["0:name (primary name daniel james hartley)"]},
        how={"P1": {"0:name": "exact hartley"}, "P8": {"0:name": "hartly fuzzy for hartley, 1 edit"}},
    ),
    Scenario(
        "graded: an exact surname above one that sounds like it",
        _q({"type": "name", "value": "Hartley", "mode": "phonetic"}),
        {"P1", "P8"},
        order=["P1", "P8"],
        scores={"P1": 1.0, "P8": 0.75},
    ),
    Scenario(
        "graded: the name given above its variants",
        _q({"type": "name", "value": "Steve", "mode": "nickname"}),
        {"P4", "P7"},
        order=["P7", "P4"],
        scores={"P7": 1.0, "P4": 0.875},
    ),
    Scenario(
        "graded: a name's words summed in its best name, two edits below one",
        _q({"type": "name", "value": "Daniel Hartley", "mode": "fuzzy"}),
        {"P1", "P8"},
        order=["P1", "P8"],
        scores={"P1": 2.0, "P8": 1.125},  # danielle two edits (0.5) and hartly one (0.625)
        why={"P1": ["0:name (primary name daniel james hartley)"]},
        how={"P8": {"0:name": "danielle fuzzy for daniel, 2 edits; hartly fuzzy for hartley, 1 edit"}},
    ),
    Scenario(
        "graded: a date of birth less each slip",
        _q(
            {"type": "date_of_birth", "exact": "1989-03-07", "transposed": True, "year_either_side": True},
            {"type": "date_of_birth", "exact": "1988-03-07", "transposed": True},
            {"type": "date_of_birth", "year": 1983, "year_either_side": True},
            op="or",
        ),
        {"P1", "P7", "P8"},
        order=["P7"],  # then P1 and P8 alike, in the order of their ids
        scores={"P7": 1.25, "P1": 0.75, "P8": 0.75},
    ),
    Scenario(
        "graded: a whole registration above a pattern, weighed above a name",
        _q(
            {"type": "vehicle", "vrm": "GK19XBW"},
            {"type": "vehicle", "vrm": "GK19", "partial": True},
            {"type": "name", "value": "Stephens"},
            op="or",
        ),
        {"P1", "P7"},
        order=["P1", "P7"],
        scores={"P1": 3.5, "P7": 2.5},
    ),
    Scenario(
        "graded: a whole telephone number above part of one",
        _q(
            {"type": "contact", "kind": "phone", "value": "07700900123", "partial": True},
            {"type": "contact", "kind": "phone", "value": "7700-900", "partial": True},
            op="or",
        ),
        {"P1"},
        scores={"P1": 3.5},
    ),
    Scenario(
        "weighed: an identifier above a name",
        _q(
            {"type": "identifier", "kind": "pnc", "value": PNC_P1},
            {"type": "name", "value": "Hartly"},
            op="or",
        ),
        {"P1", "P8"},
        order=["P1", "P8"],
        scores={"P1": 4.0, "P8": 1.0},
    ),
    Scenario(
        # For an Essex searcher P3 takes no part: P1 keeps its score and comes first
        "graded: a restricted record's score moves no one else's",
        _q(
            {"type": "vehicle", "vrm": "ABC", "partial": True},
            {"type": "name", "value": "Hartley"},
            op="or",
        ),
        {"P1", "P3"},
        order=["P3", "P1"],
        scores={"P3": 1.5, "P1": 1.0},
    ),
]
