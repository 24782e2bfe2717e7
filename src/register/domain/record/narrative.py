"""The narrative a free-text search reads: which text of which item (or chronology entry) belongs to which
source, and the words it is made of. Pure: both search backends and the store's word tokens use it, so they
agree on every word."""

from __future__ import annotations

import re
from typing import Literal

from .base import SectionItem
from .chronology import ChronologyEntry
from .identity import Mark
from .intelligence import Intelligence
from .management import RiskAssessment, RiskPlan
from .offending import Offence
from .places import Employment

Source = Literal["chronology", "intelligence", "risk", "plans", "modus_operandi", "marks", "employment"]
SOURCES: tuple[Source, ...] = (
    "chronology",
    "intelligence",
    "risk",
    "plans",
    "modus_operandi",
    "marks",
    "employment",
)
# The record section each source is read from (what the access policy's `sections` rule names)
SOURCE_SECTIONS: dict[str, str] = {
    "chronology": "chronology",
    "intelligence": "intelligence",
    "risk": "risk_assessments",
    "plans": "risk_plans",
    "modus_operandi": "offences",
    "marks": "marks",
    "employment": "employment",
}


_WORD = re.compile(r"\w+")


def text_words(text: str | None) -> list[str]:
    """The words of a text as free text compares them: runs of letters and digits, lower-cased, each once, in
    order (no stemming, no phrase: "school gates" is not "school gate")."""
    return list(dict.fromkeys(_WORD.findall((text or "").lower())))


def item_pieces(data: SectionItem) -> list[tuple[Source, str]]:
    """The narrative pieces of one section item, each with its source: a free-text criterion's words must all
    be in one piece."""
    texts: list[tuple[Source, str | None]] = []
    plans: Source = "plans"
    if isinstance(data, Intelligence):
        texts = [("intelligence", data.text)]
    elif isinstance(data, RiskAssessment):
        texts = [("risk", data.outcome)]
    elif isinstance(data, RiskPlan):
        texts = [(plans, data.summary)] + [(plans, a.description) for a in data.actions]
    elif isinstance(data, Offence):
        texts = [("modus_operandi", data.modus_operandi)]
    elif isinstance(data, Mark):
        texts = [("marks", data.description)]
    elif isinstance(data, Employment):
        texts = [("employment", " ".join(filter(None, [data.organisation, data.role, data.location])))]
    return [(source, text) for source, text in texts if text is not None and text_words(text)]


def entry_pieces(entry: ChronologyEntry) -> list[tuple[Source, str]]:
    """A chronology entry's narrative: its summary (the details stay out of search)."""
    return [("chronology", entry.summary)] if text_words(entry.summary) else []
