"""What a record looks like in the search index. Pure: a Record in, a JSON-ready dict out.

Values are normalised here, with the same code the domain and the blind indexes use (folded name words, their
Metaphone and Soundex codes, postcode parts, registration-mark 3-grams), so the index needs no analysis
plugins and both search backends match on identical forms. Narrative (chronology summaries, intelligence
text, risk and plan narrative, modus operandi, marks, employment) is kept as pieces, each with the agencies
that may read it, for free text; victim-safety details and intelligence's grades and handling conditions are
never indexed.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, cast

import jellyfish
import orjson
from doublemetaphone import doublemetaphone

from ..domain import values
from ..domain.enums import ContactKind, IdentifierKind, NameType, VehicleRelationship
from ..domain.record import (
    Address,
    Alias,
    Contact,
    Description,
    Employment,
    Identifier,
    Mark,
    Offence,
    Record,
    RiskAssessment,
    Section,
    StoredItem,
    Vehicle,
    entry_pieces,
    item_pieces,
    text_words,
    vrm_ngrams,
)
from ..domain.record.identity import IDENTIFIER_NORMALISERS
from ..domain.record.management import ROSH_ORDER
from ..domain.record.narrative import SOURCE_SECTIONS
from ..domain.record.places import CONTACT_NORMALISERS
from .query import phone_digits

INDEX_VERSION = 3  # 2: names[].words (each word with its part and phonetic keys, nested); 3: narrative
EVERYONE = "all"  # the audience of a piece of narrative every agency may read


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def grams(text: str, n: int = 3) -> list[str]:
    return sorted({text[i : i + n] for i in range(len(text) - n + 1)})


@functools.lru_cache(maxsize=1 << 16)
def _phonetic(word: str) -> tuple[str, tuple[str, ...], str, str]:
    """A word's Metaphone, Double Metaphone (primary and alternate), Soundex and NYSIIS keys. Names come from
    a small vocabulary, so a reindex computes each word's keys once, not once per person who bears it."""
    primary, alternate = doublemetaphone(word)
    return (
        jellyfish.metaphone(word),
        tuple(sorted({k for k in (primary, alternate) if k})),
        jellyfish.soundex(word),
        jellyfish.nysiis(word),
    )


def sounds(word: str) -> dict[str, list[str]]:
    """A word's phonetic keys, one list per algorithm (Double Metaphone has a primary and an alternate)."""
    metaphone, double, soundex, nysiis = _phonetic(word)
    return {
        "metaphone": [metaphone],
        "double_metaphone": list(double),
        "soundex": [soundex],
        "nysiis": [nysiis],
    }


NO_SOUNDS: dict[str, list[str]] = {"metaphone": [], "double_metaphone": [], "soundex": [], "nysiis": []}


def _words(forenames: str, surname: str, phonetic: bool = True) -> list[dict[str, Any]]:
    """Every word of a name with the part it is in and its phonetic keys (what a name criterion compares)."""
    out = []
    for part, text in (("forenames", forenames), ("surname", surname)):
        for word in values.name_tokens(text):
            out.append({"word": word, "part": part, **(sounds(word) if phonetic else NO_SOUNDS)})
    return out


def _name(kind: str, forenames: str, surname: str, dob: str | None, phonetic: bool = True) -> dict[str, Any]:
    tokens = values.name_tokens(forenames, surname)
    return {
        "words": _words(forenames, surname, phonetic),
        "kind": kind,
        "full": values.fold(f"{forenames} {surname}"),
        "surname": " ".join(values.name_tokens(surname)),
        "tokens": tokens,
        "metaphone": sorted({_phonetic(t)[0] for t in tokens}) if phonetic else [],
        "soundex": sorted({_phonetic(t)[2] for t in tokens}) if phonetic else [],
        "date_of_birth": dob,
    }


def _contact(c: Contact) -> str:
    """A contact as both backends compare it: folded; a telephone number as its digits with the national 0
    (the domain keeps it so; a value written before it did is put right here)."""
    return phone_digits(c.value) if c.kind == ContactKind.PHONE else values.fold(c.value)


def _current(items: list[StoredItem]) -> list[StoredItem]:
    return [i for i in items if i.ended_at is None]


def _audiences(audience: str | None) -> list[str]:
    """Who may read a piece: the agencies its item or entry names, or everyone."""
    return sorted(audience.split(",")) if audience else [EVERYONE]


def narrative(record: Record) -> list[dict[str, Any]]:
    """Every piece of narrative a free-text criterion reads, each with its source, the section the access
    policy rules it by, and the agencies that may read it (its item's or entry's audience): current items and
    every chronology entry (the timeline is append-only: an amended entry is still read where it stands)."""
    pieces: list[tuple[str, str, str | None]] = [
        (source, text, item.data.plain().audience)
        for items in record.sections.values()
        for item in _current(items)
        for source, text in item_pieces(item.data)
    ]
    pieces += [
        (source, text, entry.audience)
        for entry in record.chronology
        for source, text in entry_pieces(entry.data)
    ]
    return [
        {
            "source": source,
            "section": SOURCE_SECTIONS[source],
            "audiences": _audiences(audience),
            "text": text,
            "words": text_words(text),
        }
        for source, text, audience in pieces
    ]


def document(record: Record, *, phonetic: bool = True) -> dict[str, Any]:
    """The record's index document. `phonetic=False` leaves the names' phonetic keys empty: the embedded
    backend's judge of a query without a name criterion, which never reads them (they are most of the
    cost of a document)."""
    identity, header = record.identity, record.header
    names = [_name("primary", identity.forenames, identity.surname, _iso(identity.date_of_birth), phonetic)]
    for item in _current(record.items(Section.ALIASES)):
        alias = cast(Alias, item.data)  # the aliases section holds aliases only
        names.append(
            _name(alias.name_type.value, alias.forenames, alias.surname, _iso(alias.date_of_birth), phonetic)
        )
    dobs = sorted({n["date_of_birth"] for n in names if n["date_of_birth"]})
    # The risk assessments section holds risk assessments only.
    assessments = sorted(
        (cast(RiskAssessment, i.data) for i in _current(record.items(Section.RISK_ASSESSMENTS))),
        key=lambda a: a.assessed_on,
    )
    latest = assessments[-1] if assessments else None
    overall = latest.overall_rosh if latest else None

    def data(section: Section) -> list[Any]:
        return [i.data for i in _current(record.items(section))]

    return {
        "nominal_id": str(record.id),
        "version": record.version,
        "status": record.status.value,
        "area": header.area.value,
        "managing_unit": header.managing_unit,
        "lead_agency": header.lead_agency.value,
        "nominal_type": header.nominal_type.value,
        "mappa_category": int(header.mappa_category) if header.mappa_category else None,
        "mappa_level": int(header.mappa_level) if header.mappa_level else None,
        "restricted": header.restricted,
        "risk_level": overall.value if overall else None,
        "gender": identity.gender.value,
        "ethnicity": identity.ethnicity.value if identity.ethnicity else None,
        "nationality": identity.nationality,
        "names": names,
        "dates_of_birth": dobs,
        "dob_years": sorted({int(d[:4]) for d in dobs}),
        "dob_month_days": sorted({d[5:] for d in dobs}),
        "descriptions": [
            {
                "observed_on": _iso(d.observed_on),
                "height_cm": d.height_cm,
                "build": d.build.value if d.build else None,
                "hair": d.hair,
                "eyes": d.eyes,
            }
            for d in data(Section.DESCRIPTIONS)
            if isinstance(d, Description)
        ],
        "marks": [
            {"kind": mk.kind.value, "location": mk.location.value, "description": mk.description}
            for mk in data(Section.MARKS)
            if isinstance(mk, Mark)
        ],
        "identifiers": [
            {"kind": i.kind.value, "value": i.value}
            for i in data(Section.IDENTIFIERS)
            if isinstance(i, Identifier)
        ],
        "addresses": [
            {
                "kind": a.kind.value,
                "postcode": a.postcode,
                "sector": values.postcode_sector(a.postcode) if a.postcode else None,
                "district": values.postcode_district(a.postcode) if a.postcode else None,
                "town": a.town,
                "location": {"lat": a.latitude, "lon": a.longitude} if a.latitude is not None else None,
                "date_from": _iso(a.date_from),
                "date_to": _iso(a.date_to),
            }
            for a in data(Section.ADDRESSES)
            if isinstance(a, Address)
        ],
        "vehicles": [
            {
                "vrm": v.vrm,
                "vrm_3grams": vrm_ngrams(v.vrm),
                "make": values.fold(v.make) if v.make else None,
                "model": values.fold(v.model) if v.model else None,
                "colour": values.fold(v.colour) if v.colour else None,
                "relationship": v.relationship.value,
                "date_from": _iso(v.date_from),
                "date_to": _iso(v.date_to),
            }
            for v in data(Section.VEHICLES)
            if isinstance(v, Vehicle)
        ],
        "contacts": [
            {"kind": c.kind.value, "value": (v := _contact(c)), "value_3grams": grams(v)}
            for c in data(Section.CONTACTS)
            if isinstance(c, Contact)
        ],
        "offences": [
            {
                "offence": o.offence,
                "offence_code": o.offence_code,
                "offence_date": _iso(o.offence_date),
                "conviction_date": _iso(o.conviction_date),
                "disposal": o.disposal.kind.value,
                "sexual": o.sexual,
                "victim_age_bands": sorted({v.age_band.value for v in o.victims}),
                "victim_genders": sorted({v.gender.value for v in o.victims}),
                "victim_relationships": sorted({v.relationship.value for v in o.victims}),
                "modus_operandi": o.modus_operandi,
            }
            for o in data(Section.OFFENCES)
            if isinstance(o, Offence)
        ],
        "employment": " | ".join(
            " ".join(filter(None, [e.organisation, e.role, e.location]))
            for e in data(Section.EMPLOYMENT)
            if isinstance(e, Employment)
        )
        or None,
        "narrative": narrative(record),
    }


# ---------------------------------------------------------------- the same document from stored payloads
#
# Reindexing builds every document of the register. Parsing each payload into the domain's models (validating
# every field again, building a Record) cost more than everything else the reindex does, and the index needs a
# few fields of each: `stored_document` reads them from the payloads' JSON as `model_dump_json` wrote them,
# with the models' defaults for fields a payload leaves out and the normalisers their validators apply on
# reading. It must give exactly what `document` gives for the same record:
# tests/search/test_stored_documents.py compares the two on varied records. Change both together.

# The sections a document reads: the ones `document` lists and those holding narrative.
INDEXED_SECTIONS = frozenset(
    {
        Section.ALIASES,
        Section.RISK_ASSESSMENTS,
        Section.DESCRIPTIONS,
        Section.MARKS,
        Section.IDENTIFIERS,
        Section.ADDRESSES,
        Section.VEHICLES,
        Section.CONTACTS,
        Section.OFFENCES,
        Section.EMPLOYMENT,
        Section.INTELLIGENCE,
        Section.RISK_PLANS,
    }
)
_ROSH = [level.value for level in ROSH_ORDER]
_NO_NAME_TYPE = NameType.ALIAS.value
_UNKNOWN = "unknown"  # VictimProfile's defaults (age band, gender, relationship)
_USER = VehicleRelationship.USER.value
_Piece = tuple[str, str, str | None, list[str]]


def _stored_pieces(section: str, d: dict[str, Any]) -> list[_Piece]:
    """`item_pieces` of a stored payload: (source, text, audience, words) (the audience as `plain()` gives it;
    the words found once, for the filter and the document)."""
    texts: list[tuple[str, str | None]]
    audience = None
    if section == "intelligence":
        texts = [("intelligence", d["text"])]
        agencies = d.get("audience")
        audience = ",".join(sorted(set(agencies))) if agencies else None
    elif section == "risk_assessments":
        texts = [("risk", d.get("outcome"))]
    elif section == "risk_plans":
        texts = [("plans", d.get("summary"))] + [("plans", a["description"]) for a in d.get("actions", ())]
    elif section == "offences":
        texts = [("modus_operandi", d.get("modus_operandi"))]
    elif section == "marks":
        texts = [("marks", d["description"])]
    elif section == "employment":
        texts = [
            ("employment", " ".join(filter(None, [d["organisation"], d.get("role"), d.get("location")])))
        ]
    else:
        return []
    return [
        (source, text, audience, words)
        for source, text in texts
        if text is not None and (words := text_words(text))
    ]


def _contact_value(kind: str, value: str) -> str:
    normaliser = CONTACT_NORMALISERS.get(ContactKind(kind))
    value = normaliser(value) if normaliser else value
    return phone_digits(value) if kind == ContactKind.PHONE else values.fold(value)


def stored_document(
    row: Any, identity: bytes, items: list[tuple[str, bytes]], entries: list[tuple[str | None, bytes]]
) -> dict[str, Any]:
    """`document(record)` from what `NominalRepository.load_opened` reads: the nominal's plain columns, its
    opened identity, its current items' payloads (with their section, in a Record's order) and its chronology
    entries' payloads (with their audience)."""
    # orjson reads the UTF-8 bytes model_dump_json wrote as they are, in under a third of json's time (1.8
    # against 6.1 µs for an offence): with json, parsing a record's 31 payloads was an eighth of its build.
    ident = orjson.loads(identity)
    by_section: dict[str, list[dict[str, Any]]] = {}
    narrative_pieces: list[_Piece] = []
    for section, payload in items:
        d = orjson.loads(payload)
        by_section.setdefault(section, []).append(d)
        narrative_pieces += _stored_pieces(section, d)
    for audience, payload in entries:
        summary = orjson.loads(payload)["summary"]
        if words := text_words(summary):
            narrative_pieces.append(("chronology", summary, audience, words))

    def data(section: Section) -> list[dict[str, Any]]:
        return by_section.get(section.value, [])

    names = [_name("primary", ident["forenames"], ident["surname"], ident.get("date_of_birth"))]
    for a in data(Section.ALIASES):
        names.append(
            _name(a.get("name_type", _NO_NAME_TYPE), a["forenames"], a["surname"], a.get("date_of_birth"))
        )
    dobs = sorted({n["date_of_birth"] for n in names if n["date_of_birth"]})
    # ISO dates (1900 to 2100) sort as the dates do.
    assessments = sorted(data(Section.RISK_ASSESSMENTS), key=lambda a: a["assessed_on"])
    rosh = assessments[-1].get("rosh") if assessments else None
    overall = max(rosh.values(), key=_ROSH.index) if rosh else None
    category, level = row.mappa_category, row.mappa_level
    return {
        "nominal_id": str(row.id),
        "version": row.version,
        "status": row.status,
        "area": row.area,
        "managing_unit": row.managing_unit,
        "lead_agency": row.lead_agency,
        "nominal_type": row.nominal_type,
        "mappa_category": int(category) if category else None,
        "mappa_level": int(level) if level else None,
        "restricted": bool(row.restricted),
        "risk_level": overall,
        "gender": ident.get("gender", _UNKNOWN),
        "ethnicity": ident.get("ethnicity"),
        "nationality": ident.get("nationality"),
        "names": names,
        "dates_of_birth": dobs,
        "dob_years": sorted({int(d[:4]) for d in dobs}),
        "dob_month_days": sorted({d[5:] for d in dobs}),
        "descriptions": [
            {
                "observed_on": d["observed_on"],
                "height_cm": d.get("height_cm"),
                "build": d.get("build"),
                "hair": d.get("hair"),
                "eyes": d.get("eyes"),
            }
            for d in data(Section.DESCRIPTIONS)
        ],
        "marks": [
            {"kind": mk["kind"], "location": mk["location"], "description": mk["description"]}
            for mk in data(Section.MARKS)
        ],
        "identifiers": [
            {"kind": i["kind"], "value": IDENTIFIER_NORMALISERS[IdentifierKind(i["kind"])](i["value"])}
            for i in data(Section.IDENTIFIERS)
        ],
        "addresses": [
            {
                "kind": a["kind"],
                "postcode": (pc := values.normalise_postcode(a["postcode"]) if a.get("postcode") else None),
                "sector": values.postcode_sector(pc) if pc else None,
                "district": values.postcode_district(pc) if pc else None,
                "town": a.get("town"),
                "location": (
                    {"lat": float(a["latitude"]), "lon": float(a["longitude"])}
                    if a.get("latitude") is not None
                    else None
                ),
                "date_from": a.get("date_from"),
                "date_to": a.get("date_to"),
            }
            for a in data(Section.ADDRESSES)
        ],
        "vehicles": [
            {
                "vrm": (vrm := values.normalise_vrm(v["vrm"])),
                "vrm_3grams": vrm_ngrams(vrm),
                "make": values.fold(v["make"]) if v.get("make") else None,
                "model": values.fold(v["model"]) if v.get("model") else None,
                "colour": values.fold(v["colour"]) if v.get("colour") else None,
                "relationship": v.get("relationship", _USER),
                "date_from": v.get("date_from"),
                "date_to": v.get("date_to"),
            }
            for v in data(Section.VEHICLES)
        ],
        "contacts": [
            {
                "kind": c["kind"],
                "value": (cv := _contact_value(c["kind"], c["value"])),
                "value_3grams": grams(cv),
            }
            for c in data(Section.CONTACTS)
        ],
        "offences": [
            {
                "offence": o["offence"],
                "offence_code": o.get("offence_code"),
                "offence_date": o.get("offence_date"),
                "conviction_date": o["conviction_date"],
                "disposal": o["disposal"]["kind"],
                "sexual": o.get("sexual", False),
                "victim_age_bands": sorted({v.get("age_band", _UNKNOWN) for v in o.get("victims", ())}),
                "victim_genders": sorted({v.get("gender", _UNKNOWN) for v in o.get("victims", ())}),
                "victim_relationships": sorted(
                    {v.get("relationship", _UNKNOWN) for v in o.get("victims", ())}
                ),
                "modus_operandi": o.get("modus_operandi"),
            }
            for o in data(Section.OFFENCES)
        ],
        "employment": " | ".join(
            " ".join(filter(None, [e["organisation"], e.get("role"), e.get("location")]))
            for e in data(Section.EMPLOYMENT)
        )
        or None,
        "narrative": [
            {
                "source": source,
                "section": SOURCE_SECTIONS[source],
                "audiences": _audiences(audience),
                "text": text,
                "words": words,
            }
            for source, text, audience, words in narrative_pieces
        ],
    }
