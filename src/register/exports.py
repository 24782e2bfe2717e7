"""CSV for people to open in a spreadsheet: every export (search results, statistics, worklists, the audit
log) is written here, so that no cell runs as a formula (CSV injection, issue #17 F12).

`defusedcsv` (a maintained drop-in for the csv module) prefixes `'` to a cell starting with = + - @ | % unless
it is a plain number; a cell starting with a tab or a carriage return (which some spreadsheets drop before
evaluating what follows) gets the same prefix here, as OWASP advises and defusedcsv 3 does not.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from defusedcsv import csv

_LEADING_WHITESPACE = ("\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_LEADING_WHITESPACE):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header of `columns`, then each row's values for them (missing: empty), every cell defused."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(row.get(column, "")) for column in columns})
    return out.getvalue()
