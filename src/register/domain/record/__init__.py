"""The nominal's record: its header, identity and every section of domain.md.

Each section item is a pydantic model that validates itself (closed enumerations,
dates in order, identifiers checked and normalised, plausible heights and ages),
says which of its facts are operational metadata kept in plain columns
(`plain()`), and which normalised values are exact-match searchable (`tokens()`).
Everything else it holds is personal data or narrative and is stored encrypted.
Nothing here does I/O.
"""

from __future__ import annotations

from .base import (
    EARLIEST_DATE,
    MAX_AGE_YEARS,
    MIN_AGE_YEARS,
    Date,
    Model,
    Name,
    Period,
    Plain,
    Section,
    SectionItem,
    ShortText,
    Text,
    Token,
    dob_tokens,
    name_tokens,
    today,
)
from .chronology import ChronologyEntry
from .identity import IDENTIFIER_NORMALISERS, Alias, Description, Identifier, Identity, Mark, Photograph
from .intelligence import Disclosure, Intelligence, VictimSafety
from .management import (
    CATEGORY_FOR_TYPE,
    LevelChange,
    Meeting,
    OffenderManager,
    PlanAction,
    Referral,
    RiskAssessment,
    RiskPlan,
)
from .meetings import MeetingAction, MeetingDisclosure, MeetingMinutes, PlannedAction
from .narrative import SOURCE_SECTIONS, SOURCES, Source, entry_pieces, item_pieces, text_words
from .nominal import Header, NewNominal, Record, StoredEntry, StoredItem, record_tokens
from .offending import Condition, Disposal, Offence, Order, VictimProfile
from .places import (
    GEO_CELL_SIZES,
    Address,
    Associate,
    AssociatePerson,
    Contact,
    Employment,
    Vehicle,
    geo_cell,
    vrm_ngrams,
    vrm_positions,
)
from .sections import AUDIENCE_SECTIONS, SECTION_MODELS

__all__ = [
    "SOURCES",
    "SOURCE_SECTIONS",
    "Source",
    "entry_pieces",
    "item_pieces",
    "text_words",
    "AUDIENCE_SECTIONS",
    "Address",
    "Alias",
    "Associate",
    "AssociatePerson",
    "CATEGORY_FOR_TYPE",
    "ChronologyEntry",
    "Condition",
    "Contact",
    "Date",
    "Description",
    "Disclosure",
    "Disposal",
    "EARLIEST_DATE",
    "Employment",
    "GEO_CELL_SIZES",
    "Header",
    "IDENTIFIER_NORMALISERS",
    "Identifier",
    "Identity",
    "Intelligence",
    "LevelChange",
    "MAX_AGE_YEARS",
    "MIN_AGE_YEARS",
    "Mark",
    "Meeting",
    "MeetingAction",
    "MeetingDisclosure",
    "MeetingMinutes",
    "PlannedAction",
    "Referral",
    "Model",
    "Name",
    "NewNominal",
    "Offence",
    "OffenderManager",
    "Order",
    "Period",
    "Photograph",
    "Plain",
    "PlanAction",
    "Record",
    "RiskAssessment",
    "RiskPlan",
    "SECTION_MODELS",
    "Section",
    "SectionItem",
    "ShortText",
    "StoredEntry",
    "StoredItem",
    "Text",
    "Token",
    "Vehicle",
    "VictimProfile",
    "VictimSafety",
    "dob_tokens",
    "geo_cell",
    "name_tokens",
    "record_tokens",
    "today",
    "vrm_ngrams",
    "vrm_positions",
]
