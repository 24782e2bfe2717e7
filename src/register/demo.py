"""A small, realistic demo register: people in Kent and Essex at each MAPPA level, with every section used.

All names, identifiers and addresses are invented. Identifiers carry valid check letters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select

from .access.development import (  # noqa: F401 - the demo's users, named here too
    DEMO_USERS,
    DemoUser,
    demo_users,
)
from .domain.actors import Actor
from .domain.enums import Agency, Area
from .domain.record import ChronologyEntry, NewNominal, Section
from .domain.rules import parse_item
from .domain.values import check_letter
from .nominals import service
from .photos import service as photos
from .store import models as m
from .store.store import Store
from .store.uow import UnitOfWork


def pnc(year: int, serial: int) -> str:
    s = f"{serial:07d}"
    return f"{year}/{s}{check_letter(f'{year % 100:02d}{s}')}"


def cro(serial: int, year: int) -> str:
    s = f"{serial:06d}"
    return f"{s}/{year:02d}{check_letter(f'{year:02d}{s}')}"


def _t(text: str, today: dt.date | None = None) -> dt.datetime:
    """A time as ISO text, or `-Nd HH:MM` days before `today` (for what must stay recent whenever the demo is
    loaded: a yearly notification made a year ago would be overdue on every later demo)."""
    if text.startswith("-"):
        days, _, clock = text[1:].partition("d ")
        day = (today or dt.date.today()) - dt.timedelta(days=int(days))
        return dt.datetime.fromisoformat(f"{day.isoformat()}T{clock or '10:00'}:00").replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


PEOPLE: list[dict[str, Any]] = [
    {
        "header": {
            "nominal_type": "rso",
            "area": "kent",
            "managing_unit": "Maidstone MOSOVO",
            "lead_agency": "police",
            "mappa_category": 1,
            "mappa_level": 1,
        },
        "identity": {
            "forenames": "Daniel James",
            "surname": "Hartley",
            "date_of_birth": "1984-03-17",
            "gender": "male",
            "ethnicity": "W1",
            "nationality": "GBR",
            "place_of_birth": "Chatham",
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
            (Section.IDENTIFIERS, {"kind": "pnc", "value": pnc(2003, 412876)}),
            (Section.IDENTIFIERS, {"kind": "cro", "value": cro(45821, 3)}),
            (Section.IDENTIFIERS, {"kind": "ni", "value": "JT 48 21 93 C"}),
            (
                Section.DESCRIPTIONS,
                {
                    "observed_on": "2024-02-01",
                    "height_cm": 180,
                    "build": "stocky",
                    "hair": "brown, short",
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
                    "postcode": "me16 8rp",
                    "latitude": 51.2716,
                    "longitude": 0.5090,
                    "date_from": "2021-06-01",
                    "last_verified_on": "2025-09-12",
                },
            ),
            (
                Section.VEHICLES,
                {
                    "vrm": "gk19 xbw",
                    "make": "Ford",
                    "model": "Transit",
                    "colour": "blue",
                    "relationship": "user",
                    "date_from": "2022-01-10",
                },
            ),
            (Section.CONTACTS, {"kind": "phone", "value": "+44 7700 900123"}),
            (Section.CONTACTS, {"kind": "online_identity", "value": "@dhart84", "platform": "Snapchat"}),
            (
                Section.EMPLOYMENT,
                {
                    "kind": "employment",
                    "organisation": "Medway Removals Ltd",
                    "role": "driver",
                    "date_from": "2022-01-10",
                },
            ),
            (
                Section.OFFENCES,
                {
                    "offence": "Sexual assault on a female",
                    "offence_date": "2011-08-02",
                    "conviction_date": "2012-01-20",
                    "court": "Maidstone Crown Court",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 36},
                    "victims": [{"age_band": "adult", "gender": "female", "relationship": "stranger"}],
                    "modus_operandi": "approached lone women walking home late at night near the river path",
                },
            ),
            (
                Section.ORDERS,
                {"kind": "notification_requirement", "made_on": "2012-01-20", "starts_on": "2012-01-20"},
            ),
            (
                Section.ORDERS,
                {
                    "kind": "shpo",
                    "made_on": "2016-05-11",
                    "starts_on": "2016-05-11",
                    "ends_on": "2031-05-10",
                    "foreign_travel_restriction": True,
                    "conditions": [
                        {"kind": "internet_use", "description": "no deletion of browsing history"}
                    ],
                },
            ),
            (
                Section.MAPPA_LEVELS,
                {
                    "category": 1,
                    "level": 1,
                    "effective_from": "2016-05-11",
                    "rationale": "managed by police MOSOVO; stable",
                },
            ),
            (
                Section.OFFENDER_MANAGERS,
                {
                    "agency": "police",
                    "name": "DC Sarah Okafor",
                    "user_id": "kent.offender_manager",
                    "unit": "Maidstone MOSOVO",
                    "date_from": "2021-06-01",
                },
            ),
            (
                Section.MEETINGS,
                {
                    "kind": "annual_review",
                    "held_on": "2025-03-04",
                    "level": 1,
                    "agencies_present": ["police", "probation"],
                    "actions": ["home visit within 3 months"],
                },
            ),
            (
                Section.RISK_ASSESSMENTS,
                {
                    "tool": "arms",
                    "assessed_on": "2025-03-01",
                    "assessor": "DC Sarah Okafor",
                    "scores": {"ARMS": "medium"},
                    "rosh": {"public": "medium", "known_adult": "low"},
                    "next_review_on": "2026-03-01",
                },
            ),
            (
                Section.INTELLIGENCE,
                {
                    "received_on": "2025-07-22",
                    "text": "seen loitering near Mote Park bandstand after dark",
                    "scheme": "3x5x2",
                    "source_evaluation": "B",
                    "intelligence_assessment": 2,
                    "handling_code": "C",
                    "handling_conditions": "police only",
                    "audience": ["police"],
                },
            ),
        ],
        "photographs": [("2021-06-01", 1), ("2024-02-01", 0)],
        "chronology": [
            ("2012-01-27T10:00:00", "notification", "Initial notification at Maidstone police station"),
            ("2025-03-04T10:00:00", "meeting", "Level 1 annual review held"),
            ("2025-09-12T14:30:00", "home_visit", "Home visit: address verified, new partner disclosed"),
            (
                "-45d 11:30",
                "notification",
                "Annual notification at Maidstone police station: details confirmed",
            ),
        ],
    },
    {
        "header": {
            "nominal_type": "rso",
            "area": "kent",
            "managing_unit": "Canterbury MOSOVO",
            "lead_agency": "probation",
            "mappa_category": 1,
            "mappa_level": 2,
        },
        "identity": {
            "forenames": "Mark",
            "surname": "O'Sullivan",
            "date_of_birth": "1979-11-02",
            "gender": "male",
            "ethnicity": "W2",
            "nationality": "IRL",
        },
        "items": [
            (Section.IDENTIFIERS, {"kind": "pnc", "value": pnc(1998, 87342)}),
            (
                Section.ADDRESSES,
                {
                    "kind": "approved_premises",
                    "lines": ["Westgate Approved Premises", "2 St Dunstan's Street"],
                    "town": "Canterbury",
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
                    "conviction_date": "2024-10-03",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 20},
                    "victims": [{"age_band": "under_13", "gender": "female", "relationship": "stranger"}],
                },
            ),
            (
                Section.ORDERS,
                {
                    "kind": "licence",
                    "made_on": "2025-08-20",
                    "starts_on": "2025-08-20",
                    "ends_on": "2026-06-02",
                    "conditions": [
                        {"kind": "exclusion_zone", "description": "not to enter Herne Bay"},
                        {
                            "kind": "disclose_relationships",
                            "description": "disclose developing relationships",
                        },
                    ],
                },
            ),
            (
                Section.MAPPA_LEVELS,
                {
                    "category": 1,
                    "level": 2,
                    "effective_from": "2025-08-20",
                    "rationale": "recent release, victim access concerns",
                },
            ),
            (
                Section.OFFENDER_MANAGERS,
                {
                    "agency": "probation",
                    "name": "Priya Shah",
                    "user_id": "kent.offender_manager.probation",
                    "date_from": "2025-08-20",
                },
            ),
            (
                Section.RISK_ASSESSMENTS,
                {
                    "tool": "oasys",
                    "assessed_on": "2025-08-01",
                    "assessor": "Priya Shah",
                    "rosh": {"children": "high", "public": "medium"},
                    "next_review_on": "2026-02-01",
                },
            ),
            (
                Section.RISK_PLANS,
                {
                    "agreed_on": "2025-08-20",
                    "review_on": "2026-02-20",
                    "summary": "Level 2 plan on release",
                    "actions": [
                        {
                            "pillar": "supervision",
                            "description": "weekly probation appointments",
                            "owner": "probation",
                        },
                        {
                            "pillar": "monitoring_and_control",
                            "description": "unannounced home visits",
                            "owner": "police",
                        },
                        {
                            "pillar": "interventions_and_treatment",
                            "description": "Horizon programme",
                            "owner": "probation",
                        },
                        {
                            "pillar": "victim_safety_planning",
                            "description": "exclusion zone monitoring",
                            "owner": "police",
                        },
                    ],
                },
            ),
            (
                Section.DISCLOSURES,
                {
                    "decided_on": "2025-10-01",
                    "recipient": "partner",
                    "decision": "disclose",
                    "rationale": "new partner has two children under 10",
                    "outcome": "disclosed in person",
                },
            ),
            (
                Section.VICTIM_SAFETY,
                {
                    "kind": "exclusion_zone",
                    "victim": "family of victim (Herne Bay)",
                    "details": "not to enter Herne Bay town centre",
                    "zone": "Herne Bay",
                    "managed_by": ["probation", "police"],
                    "date_from": "2025-08-20",
                },
            ),
        ],
        "chronology": [
            ("2025-08-20T09:00:00", "release", "Released on licence to approved premises"),
            ("2025-08-21T10:00:00", "notification", "Initial notification at Canterbury police station"),
            ("-100d 14:00", "notification", "Annual notification at Canterbury police station"),
        ],
    },
    {
        "header": {
            "nominal_type": "vo",
            "area": "kent",
            "managing_unit": "Medway Probation",
            "lead_agency": "probation",
            "mappa_category": 2,
            "mappa_level": 3,
            "restricted": True,
        },
        "identity": {
            "forenames": "Lee",
            "surname": "Brannigan",
            "date_of_birth": "1990-05-29",
            "gender": "male",
            "ethnicity": "W1",
        },
        "items": [
            (Section.IDENTIFIERS, {"kind": "pnc", "value": pnc(2008, 1200345)}),
            (
                Section.OFFENCES,
                {
                    "offence": "Wounding with intent (s.18)",
                    "conviction_date": "2015-06-12",
                    "disposal": {"kind": "imprisonment", "custody_months": 120},
                    "victims": [{"age_band": "adult", "gender": "female", "relationship": "known"}],
                },
            ),
            (
                Section.MAPPA_LEVELS,
                {
                    "category": 2,
                    "level": 3,
                    "effective_from": "2025-11-01",
                    "rationale": "imminent release, high media interest",
                },
            ),
            (
                Section.VEHICLES,
                {
                    "vrm": "KX63 ABC",
                    "make": "Vauxhall",
                    "model": "Astra",
                    "colour": "silver",
                    "relationship": "owner",
                },
            ),
        ],
        "chronology": [("2025-11-01T12:00:00", "level_change", "Raised to Level 3 ahead of release")],
    },
    {
        "header": {
            "nominal_type": "rso",
            "area": "essex",
            "managing_unit": "Chelmsford MOSOVO",
            "lead_agency": "police",
            "mappa_category": 1,
            "mappa_level": 1,
        },
        "identity": {
            "forenames": "Stephen",
            "surname": "Ashworth",
            "date_of_birth": "1962-12-08",
            "gender": "male",
            "ethnicity": "W1",
        },
        "items": [
            (Section.ALIASES, {"forenames": "Steven", "surname": "Ashford", "name_type": "alias"}),
            (Section.IDENTIFIERS, {"kind": "pnc", "value": pnc(1985, 33121)}),
            (
                Section.ADDRESSES,
                {
                    "kind": "home",
                    "lines": ["7 Moulsham Street"],
                    "town": "Chelmsford",
                    "postcode": "CM2 0HX",
                    "latitude": 51.7270,
                    "longitude": 0.4730,
                    "date_from": "2019-02-01",
                    "last_verified_on": "2024-11-20",
                },
            ),
            (
                Section.OFFENCES,
                {
                    "offence": "Indecent assault on a male under 14",
                    "conviction_date": "1999-04-21",
                    "sexual": True,
                    "disposal": {"kind": "imprisonment", "custody_months": 48},
                    "victims": [{"age_band": "under_13", "gender": "male", "relationship": "known"}],
                },
            ),
            (
                Section.ORDERS,
                {"kind": "notification_requirement", "made_on": "1999-04-21", "starts_on": "1999-04-21"},
            ),
            (
                Section.MAPPA_LEVELS,
                {
                    "category": 1,
                    "level": 1,
                    "effective_from": "2010-01-01",
                    "rationale": "long-standing compliance",
                },
            ),
            (
                Section.INTELLIGENCE,
                {"received_on": "2025-05-02", "text": "neighbour reports children visiting the address"},
            ),
        ],
        "chronology": [
            ("1999-04-23T10:00:00", "notification", "Initial notification"),
            ("2024-11-20T11:00:00", "home_visit", "Home visit: no concerns"),
            ("-200d 09:30", "notification", "Annual notification: details unchanged"),
        ],
    },
    {
        "header": {
            "nominal_type": "pdp",
            "area": "essex",
            "managing_unit": "Southend Public Protection",
            "lead_agency": "police",
        },
        "identity": {
            "forenames": "Kieran",
            "surname": "Doyle",
            "date_of_birth": "1996-08-14",
            "gender": "male",
        },
        "items": [
            (
                Section.ORDERS,
                {
                    "kind": "sro",
                    "made_on": "2025-04-10",
                    "starts_on": "2025-04-10",
                    "ends_on": "2027-04-09",
                    "conditions": [
                        {
                            "kind": "no_unsupervised_contact_with_children",
                            "description": "no unsupervised contact with under-16s",
                        }
                    ],
                },
            ),
            (
                Section.ASSOCIATES,
                {
                    "relationship": "partner",
                    "person": {"forenames": "Jade", "surname": "Morris"},
                    "date_from": "2024-12-01",
                },
            ),
            (Section.CONTACTS, {"kind": "email", "value": "k.doyle96@example.com"}),
        ],
        "chronology": [
            ("2025-04-10T15:00:00", "other", "Sexual Risk Order made at Southend Magistrates' Court")
        ],
    },
]


def load(uow: UnitOfWork, actor: Actor, today: dt.date | None = None) -> list[str]:
    """Create the demo: the hand-made people through the same use cases real users call, and the offender
    managers' caseloads written in bulk like `register generate` (through the domain models and the same
    encryption; seconds, not minutes). Returns the ids, caseloads first."""
    day = today or dt.date.today()
    ids = [str(i) for i in _load_caseloads(uow, actor, day)]
    for person in PEOPLE:
        new = NewNominal.model_validate(
            {**person["header"], "identity": person["identity"]}, context={"today": today} if today else None
        )
        nominal_id = service.create_nominal(uow, actor, new)
        version = 1
        for section, payload in person["items"]:
            _, version = service.add_item(
                uow, actor, nominal_id, parse_item(section, payload, today), expected_version=version
            )
        for when, kind, summary in person["chronology"]:
            entry = ChronologyEntry(occurred_at=_t(when, day), kind=kind, summary=summary)
            _, version = service.append_chronology(uow, actor, nominal_id, entry, expected_version=version)
        identity = person["identity"]
        for taken_on, shade in person.get("photographs", [("2025-01-15", 0)]):
            _, version = photos.upload_photo(
                uow,
                actor,
                nominal_id,
                portrait(f"{identity['forenames']} {identity['surname']}", shade),
                taken_on=dt.date.fromisoformat(taken_on),
                description="generated placeholder: not a real person",
                expected_version=version,
                today=today,
            )
        ids.append(str(nominal_id))
    _links_to_show(uow, actor, [uuid.UUID(i) for i in ids], today)
    _load_meetings(uow, ids[-len(PEOPLE) :], day)
    ids += _load_casework(uow, ids[-len(PEOPLE) :], day)
    return ids


def load_once(store: Store, actor: Actor, today: dt.date | None = None) -> int:
    """Load the demo people into an empty register (a register holding any record, erased or not, is left
    as it is). Returns how many records the register holds."""
    with store.session_factory() as session:
        existing: int = session.execute(select(func.count()).select_from(m.Nominal)).scalar_one()
    if existing:
        return existing
    with store.unit_of_work() as uow:
        return len(load(uow, actor, today))


def _load_caseloads(uow: UnitOfWork, actor: Actor, today: dt.date) -> list[uuid.UUID]:
    from .audit.events import Action, AuditEntry
    from .audit.tags import Tag
    from .synthetic.people import Person
    from .synthetic.service import insert_people

    written: list[uuid.UUID] = []
    for agency in Agency:
        people = []
        for spec in caseload_people(today):
            if spec["agency"] != agency:
                continue
            new = NewNominal.model_validate(
                {**spec["header"], "identity": spec["identity"]}, context={"today": today}
            )
            items = [parse_item(section, payload, today) for section, payload in spec["items"]]
            entries = [
                ChronologyEntry(occurred_at=_t(w), kind=k, summary=t) for w, k, t in spec["chronology"]
            ]
            person = Person(uuid.uuid4(), new, items, entries)
            person.item_ids = [uuid.uuid4() for _ in items]
            person.entry_ids = [uuid.uuid4() for _ in entries]
            people.append(person)
        if people:
            insert_people(uow, people, today, actor=actor, agency=agency.value)
            written += [p.id for p in people]
    uow.audit.record(
        AuditEntry(Action.COLLECTION, Tag.DEMO_CASELOADS_LOAD, actor, details={"records": len(written)})
    )
    return written


# ------------------------------------------------------------------ caseloads worth looking at

# Whose caseload the demo fills, and with how many people: dozens for the Kent police offender manager (the
# user the README signs in as), fewer for the others. Names are invented from these lists; dates are relative
# to today, so some work is always overdue and some due soon, whatever day the demo is loaded.
CASELOADS = [
    ("kent.offender_manager", Agency.POLICE, Area.KENT, "DC Sarah Okafor", "Mid Kent MOSOVO", 48),
    (
        "kent.offender_manager.probation",
        Agency.PROBATION,
        Area.KENT,
        "Priya Shah",
        "Canterbury Probation",
        14,
    ),
    ("essex.offender_manager", Agency.POLICE, Area.ESSEX, "DC Tom Fenwick", "Chelmsford MOSOVO", 18),
]
_FORENAMES = [
    "Aaron",
    "Adam",
    "Alan",
    "Andrew",
    "Anthony",
    "Barry",
    "Ben",
    "Carl",
    "Chris",
    "Colin",
    "Craig",
    "Darren",
    "Dean",
    "Derek",
    "Ellis",
    "Gary",
    "Gavin",
    "Graham",
    "Ian",
    "Jamie",
    "Jason",
    "Karl",
    "Keith",
    "Kevin",
    "Liam",
    "Luke",
    "Martin",
    "Neil",
    "Nathan",
    "Owen",
    "Paul",
    "Ryan",
    "Scott",
    "Shaun",
    "Simon",
    "Stuart",
    "Terry",
    "Wayne",
    "Joanne",
    "Karen",
    "Lisa",
    "Tracey",
]
_SURNAMES = [
    "Ashby",
    "Barlow",
    "Bennett",
    "Blackwood",
    "Brennan",
    "Carver",
    "Colley",
    "Dawes",
    "Denholm",
    "Eastwood",
    "Farrow",
    "Fletcher",
    "Gorman",
    "Hallett",
    "Harker",
    "Hollis",
    "Jarvis",
    "Kemble",
    "Lacey",
    "Larkin",
    "Maddox",
    "Marlow",
    "Mercer",
    "Norris",
    "Oakley",
    "Pardew",
    "Pickford",
    "Quarrie",
    "Radley",
    "Rowntree",
    "Sadler",
    "Shelton",
    "Stannard",
    "Thorne",
    "Tulley",
    "Upton",
    "Varley",
    "Wakeham",
    "Whitlock",
    "Yardley",
]
_TOWNS = {
    Area.KENT: [("Maidstone", "ME15"), ("Chatham", "ME4"), ("Canterbury", "CT1"), ("Ashford", "TN24")],
    Area.ESSEX: [
        ("Chelmsford", "CM1"),
        ("Southend-on-Sea", "SS1"),
        ("Colchester", "CO1"),
        ("Basildon", "SS14"),
    ],
}
_SEXUAL = ["Sexual assault", "Making indecent photographs of a child", "Exposure", "Voyeurism"]
_VIOLENT = ["Wounding with intent (s.18)", "Grievous bodily harm (s.20)", "Robbery", "Arson with intent"]


def caseload_people(today: dt.date, seed: int = 14) -> list[dict[str, Any]]:
    """Invented people for each demo offender manager's caseload, in the shape of PEOPLE; the same for a
    seed."""
    import random

    rng = random.Random(seed)
    out: list[dict[str, Any]] = []

    def ago(days: int) -> str:
        return (today - dt.timedelta(days=days)).isoformat()

    serial = 500_000
    for user_id, agency, area, om_name, unit, count in CASELOADS:
        for _ in range(count):
            serial += 1
            roll = rng.random()
            category, ntype = (
                (1, "rso") if roll < 0.7 else (2, "vo") if roll < 0.95 else (3, "other_dangerous")
            )
            level = rng.choices([1, 2, 3], weights=[78, 17, 5])[0]
            town, district = rng.choice(_TOWNS[area])
            born = today - dt.timedelta(days=rng.randint(21 * 365, 72 * 365))
            convicted = today - dt.timedelta(days=rng.randint(400, 4000))
            since = today - dt.timedelta(days=rng.randint(60, 1500))
            sexual = category == 1
            items: list[tuple[Section, dict[str, Any]]] = [
                (Section.IDENTIFIERS, {"kind": "pnc", "value": pnc(convicted.year, serial)}),
                (
                    Section.ADDRESSES,
                    {
                        "kind": "home",
                        "lines": [
                            f"{rng.randint(1, 180)} {rng.choice(['High', 'Station', 'Church', 'Mill'])} Road"
                        ],
                        "town": town,
                        "postcode": f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                        f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
                        "date_from": ago(rng.randint(100, 2000)),
                    },
                ),
                (
                    Section.OFFENCES,
                    {
                        "offence": rng.choice(_SEXUAL if sexual else _VIOLENT),
                        "conviction_date": convicted.isoformat(),
                        "sexual": sexual,
                        "disposal": {"kind": "imprisonment", "custody_months": rng.choice([18, 24, 36, 48])},
                    },
                ),
                (
                    Section.MAPPA_LEVELS,
                    {
                        "category": category,
                        "level": level,
                        "effective_from": ago(rng.randint(30, 700)),
                        "rationale": "managed at this level by the MAPPA meeting",
                    },
                ),
                (
                    Section.OFFENDER_MANAGERS,
                    {
                        "agency": agency.value,
                        "name": om_name,
                        "user_id": user_id,
                        "unit": unit,
                        "date_from": since.isoformat(),
                    },
                ),
            ]
            if sexual:
                items.append(
                    (
                        Section.ORDERS,
                        {
                            "kind": "notification_requirement",
                            "made_on": convicted.isoformat(),
                            "starts_on": convicted.isoformat(),
                        },
                    )
                )
            # The last review: about one in ten people are past it (level 2 every 16 weeks, level 3 every 8).
            review_every = {1: 365, 2: 112, 3: 56}[level]
            items.append(
                (
                    Section.MEETINGS,
                    {
                        "kind": "annual_review" if level == 1 else f"level_{level}",
                        "held_on": ago(rng.randint(review_every // 4, review_every + review_every // 10)),
                        "level": level,
                        "agencies_present": ["police", "probation"],
                    },
                )
            )
            assessed = rng.randint(20, 390)
            items.append(
                (
                    Section.RISK_ASSESSMENTS,
                    {
                        "tool": "arms" if sexual else "oasys",
                        "assessed_on": ago(assessed),
                        "assessor": om_name,
                        "rosh": {"public": rng.choice(["low", "medium", "medium", "high"])},
                        "next_review_on": ago(assessed - 365),
                    },
                )
            )
            if level > 1:
                agreed = rng.randint(20, 200)
                items.append(
                    (
                        Section.RISK_PLANS,
                        {
                            "agreed_on": ago(agreed),
                            "review_on": ago(agreed - 120),
                            "actions": [
                                {
                                    "pillar": "supervision",
                                    "description": "weekly appointments",
                                    "owner": "probation",
                                },
                                {
                                    "pillar": "monitoring_and_control",
                                    "description": "unannounced home visits",
                                    "owner": "police",
                                },
                            ],
                        },
                    )
                )
            chronology: list[tuple[str, str, str]] = []
            visit_every = {1: 182, 2: 91, 3: 30}[level]
            last_visit = rng.randint(5, visit_every + visit_every // 10)
            chronology.append(
                (ago(last_visit + visit_every) + "T10:30:00", "home_visit", "Home visit: no concerns")
            )
            chronology.append((ago(last_visit) + "T14:00:00", "home_visit", "Home visit: address verified"))
            if sexual:
                chronology.append(
                    (convicted.isoformat() + "T09:00:00", "notification", "Initial notification")
                )
                chronology.append(
                    (ago(rng.randint(30, 380)) + "T11:00:00", "notification", "Annual notification")
                )
            chronology.sort()
            out.append(
                {
                    "agency": agency,
                    "header": {
                        "nominal_type": ntype,
                        "area": area.value,
                        "managing_unit": unit,
                        "lead_agency": agency.value,
                        "mappa_category": category,
                        "mappa_level": level,
                        "restricted": rng.random() < 0.05,
                    },
                    "identity": {
                        "forenames": rng.choice(_FORENAMES),
                        "surname": rng.choice(_SURNAMES),
                        "date_of_birth": born.isoformat(),
                        "gender": "male" if rng.random() < 0.93 else "female",
                    },
                    "items": items,
                    "chronology": chronology,
                }
            )
    return out


def portrait(name: str, shade: int = 0, size: tuple[int, int] = (360, 450)) -> bytes:
    """A generated stand-in for a photograph: an abstract head-and-shoulders silhouette with the person's
    initials, in colours derived from the name (the same every run). Never a face: the demo holds no real
    person's image."""
    digest = hashlib.sha256(f"{name}|{shade}".encode()).digest()
    background = (90 + digest[0] % 120, 90 + digest[1] % 120, 90 + digest[2] % 120)
    figure = tuple(max(0, c - 70) for c in background)
    width, height = size
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    head = width * 0.2
    cx, cy = width / 2, height * 0.38
    draw.ellipse((cx - head, cy - head * 1.2, cx + head, cy + head * 1.2), fill=figure)
    draw.rounded_rectangle(
        (width * 0.12, height * 0.68, width * 0.88, height * 1.1), radius=int(width * 0.2), fill=figure
    )
    initials = "".join(part[0] for part in name.split()[:: max(1, len(name.split()) - 1)]).upper()
    font = ImageFont.load_default(size=int(head * 0.9))
    draw.text((cx, cy), initials, fill=background, font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# ------------------------------------------------------------------ something on the supervisor's desk

CASEWORK_RECORDS = 4  # the records `_load_casework` adds (a duplicate and three archived people, all Kent)


def _load_casework(uow: UnitOfWork, hand_made: list[str], today: dt.date) -> list[str]:
    """Work for the Kent supervisor (web/transfers.py, duplicates.py, retention.py), through the use cases
    their pages call too: Essex asks to transfer Stephen Ashworth to Kent; a second record of Mark O'Sullivan
    (a typing slip in his forename) is a suspected duplicate; three archived Kent people, two of them due for
    their retention review (reviewed long ago) and one under a legal hold. Returns the records it adds."""
    from .archive import service as archive
    from .archive.schemas import ArchiveRequest
    from .domain.enums import ArchiveReason, Role
    from .retention import service as retention
    from .transfers import service as transfers
    from .transfers.schemas import TransferRequest

    supervisor = DemoUser(Area.KENT, Role.SUPERVISOR, Agency.POLICE).principal()
    essex = DemoUser(Area.ESSEX, Role.OFFENDER_MANAGER, Agency.POLICE).principal()
    people = dict(zip((p["identity"]["surname"] for p in PEOPLE), map(uuid.UUID, hand_made), strict=True))

    ashworth = people["Ashworth"]
    transfers.start(
        uow,
        essex,
        ashworth,
        TransferRequest(
            to_area=Area.KENT,
            reason="Moved to Maidstone to live with his brother; he signed on at Maidstone police station",
            handover_notes="Compliant with notification; no outstanding actions",
        ),
        expected_version=uow.nominals.header_row(ashworth).version,
    )

    def create(
        forenames: str, surname: str, born: str, unit: str, items: list[tuple[Section, dict]]
    ) -> uuid.UUID:
        new = NewNominal.model_validate(
            {
                "nominal_type": "rso",
                "area": "kent",
                "managing_unit": unit,
                "lead_agency": "police",
                "identity": {
                    "forenames": forenames,
                    "surname": surname,
                    "date_of_birth": born,
                    "gender": "male",
                },
            },
            context={"today": today},
        )
        nominal_id = service.create_nominal(uow, supervisor, new)
        version = 1
        for section, payload in items:
            _, version = service.add_item(
                uow, supervisor, nominal_id, parse_item(section, payload, today), expected_version=version
            )
        return nominal_id

    duplicate = create(
        "Marc",
        "O'Sullivan",
        "1979-11-02",
        "Canterbury Probation",
        [
            (
                Section.ADDRESSES,
                {"kind": "home", "lines": ["41 Wincheap"], "town": "Canterbury", "postcode": "CT1 3RX"},
            ),
            (Section.CONTACTS, {"kind": "phone", "value": "07700 900461"}),
        ],
    )
    added = [duplicate]
    archived = [
        (
            "Graham",
            "Pettifer",
            "1941-06-30",
            ArchiveReason.DIED,
            "Died at home; death certificate seen",
            True,
        ),
        ("Royston", "Keele", "1958-02-11", ArchiveReason.LEFT_JURISDICTION, None, True),
        ("Alfie", "Brandrick", "1987-09-19", ArchiveReason.ELIGIBILITY_ENDED, None, False),
    ]
    for forenames, surname, born, reason, text, due in archived:
        nominal_id = create(forenames, surname, born, "Mid Kent MOSOVO", [])
        version = archive.archive(
            uow,
            supervisor,
            nominal_id,
            ArchiveRequest(reason=reason, text=text if reason == ArchiveReason.OTHER else None),
            expected_version=uow.nominals.header_row(nominal_id).version,
        )
        if due:  # last reviewed a full review period (and a month) ago: the next review is overdue
            years = retention.policy(uow)[reason].review_every_years
            version = retention.review(
                uow,
                supervisor,
                nominal_id,
                "Reviewed at the annual retention meeting: kept",
                expected_version=version,
                today=today.replace(year=today.year - years) - dt.timedelta(days=30),
            )
        if reason == ArchiveReason.LEFT_JURISDICTION:
            retention.set_hold(
                uow,
                supervisor,
                nominal_id,
                "Operation NIGHTJAR: disclosure in pending proceedings",
                hold=True,
                expected_version=version,
            )
        added.append(nominal_id)
    return [str(i) for i in added]


def _links_to_show(uow: UnitOfWork, actor: Actor, ids: list[uuid.UUID], today: dt.date | None) -> None:
    """Links for the association chart (docs/associations.md), added through the same use case as any item:
    Daniel Hartley names Mark O'Sullivan as a co-offender and shares his van; Mark shares a phone with one of
    Kent's caseload people (a second-level link); Lee Brannigan (restricted, Kent) lives at Daniel's postcode;
    Kieran Doyle (Essex) has Daniel's phone number and names Stephen Ashworth (Essex) as a friend."""
    hartley, osullivan, brannigan, ashworth, doyle = ids[-5:]
    caseload = uow.session.scalars(
        select(m.Nominal.id)
        .where(m.Nominal.id.in_(ids[:-5]), m.Nominal.area == Area.KENT.value, m.Nominal.restricted.is_(False))
        .order_by(m.Nominal.id)
        .limit(1)
    ).first()
    links: list[tuple[uuid.UUID | None, Section, dict[str, Any]]] = [
        (hartley, Section.ASSOCIATES, {"relationship": "co_offender", "linked_nominal_id": str(osullivan)}),
        (osullivan, Section.VEHICLES, {"vrm": "GK19 XBW", "make": "Ford", "relationship": "user"}),
        (osullivan, Section.CONTACTS, {"kind": "phone", "value": "+44 7700 900456"}),
        (caseload, Section.CONTACTS, {"kind": "phone", "value": "07700 900456"}),
        (
            brannigan,
            Section.ADDRESSES,
            {
                "kind": "home",
                "lines": ["Flat 2, 14 Tonbridge Road"],
                "town": "Maidstone",
                "postcode": "ME16 8RP",
            },
        ),
        (doyle, Section.CONTACTS, {"kind": "phone", "value": "07700 900123"}),
        (doyle, Section.ASSOCIATES, {"relationship": "friend", "linked_nominal_id": str(ashworth)}),
    ]
    for nominal_id, section, payload in links:
        if nominal_id is None:
            continue
        version = uow.nominals.header_row(nominal_id).version
        service.add_item(
            uow, actor, nominal_id, parse_item(section, payload, today), expected_version=version
        )


def _load_meetings(uow: UnitOfWork, hand_made: list[str], today: dt.date) -> None:
    """MAPPA meetings (issue #22), through the use cases their pages call: Mark O'Sullivan's Level 2 meeting
    three weeks ago, minuted by the four pillars and agreed (his risk management plan is the one it agreed),
    with an open action for the demo offender manager (DC Sarah Okafor) and an overdue one for his probation
    offender manager, which the chair's list shows."""
    from pathlib import Path

    from .access.policy import Visibility
    from .caseload import service as caseload_service
    from .domain.enums import MappaLevel, Role
    from .domain.record import MeetingMinutes
    from .meetings import service as meetings

    chair = DemoUser(Area.KENT, Role.OFFENDER_MANAGER, Agency.POLICE).principal()
    everything = Visibility(None, frozenset(s.value for s in Section) | {"chronology"})
    people = dict(zip((p["identity"]["surname"] for p in PEOPLE), map(uuid.UUID, hand_made), strict=True))
    mark = people["O'Sullivan"]
    held_on = today - dt.timedelta(days=21)
    invited = ["Police", "Probation", "Children's social care"]
    plan = meetings.Schedule(held_on, MappaLevel.MULTI_AGENCY, "DI Helen Marsh", None, invited)
    meeting_id, version = meetings.schedule(
        uow, chair, mark, plan, everything, expected_version=uow.nominals.header_row(mark).version
    )
    pillars = [
        ("supervision", "Weekly appointments at Canterbury probation office", "probation"),
        ("monitoring_and_control", "Unannounced home visits every four weeks", "police"),
        ("interventions_and_treatment", "Horizon programme, starting next month", "probation"),
        (
            "victim_safety_planning",
            "Exclusion zone around the victim's address checked at each visit",
            "police",
        ),
    ]
    minutes = MeetingMinutes.model_validate(
        {
            "meeting_id": meeting_id,
            "held_on": held_on,
            "agencies_present": invited,
            "risk_discussed": "OASys after release: high risk of serious harm to a known adult",
            "agreed_level": 2,
            "plan": [{"pillar": p, "description": d, "owner": o} for p, d, o in pillars],
            "disclosures": [
                {
                    "recipient": "landlord",
                    "what": "that he is subject to licence conditions restricting visitors",
                    "why": "shared house with a family; the landlord manages access",
                    "authorised_by": "DI Helen Marsh",
                }
            ],
            "actions": [
                {
                    "description": "Home visit to verify his new address and check who lives there",
                    "owner_name": "DC Sarah Okafor",
                    "owner_user_id": "kent.offender_manager",
                    "owner_agency": "police",
                    "due_on": today + dt.timedelta(days=5),
                },
                {
                    "description": "Confirm his place on the Horizon programme",
                    "owner_name": "Priya Shah",
                    "owner_user_id": "kent.offender_manager.probation",
                    "owner_agency": "probation",
                    "due_on": today - dt.timedelta(days=3),
                },
            ],
        }
    )
    _, version = meetings.save_minutes(
        uow, chair, mark, meeting_id, minutes, everything, restricted=False, expected_version=version
    )
    work = caseload_service.schedule(Path(__file__).parent / "caseload" / "schedule.yaml")
    meetings.agree_minutes(uow, chair, mark, meeting_id, everything, work, expected_version=version)
