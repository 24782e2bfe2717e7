"""The annual statistics' statements are built once for each shape and kept (decision 77): every value they
depend on (the area, the year's bounds, the date the figures are as known at) is a named bind parameter,
given at execution. A value left in a statement as a constant would be kept with it, and every later area
or year would be counted with the first one's: so a kept statement, given another area's and year's values,
must be exactly the statement built for them, in its SQL and in every parameter, on both engines: the
year's statements and those of the people behind a figure."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from register.statistics import service as stats

# Pairs of the same shape (one area or all, as known at a date or now): each built for the first, given the
# second's values. Years, days and areas all differ within a pair.
KNOWN = [
    (
        stats.Year(2023, known=stats.Year(2023).published_at()),
        stats.Year(2021, known=stats.Year(2021).published_at()),
    ),
]
NOW = [
    (stats.Year(2023), stats.Year(2026, until=dt.date(2025, 11, 30))),
    (stats.Year(2027, until=dt.date(2026, 12, 4)), stats.Year(2024)),
]
AREAS = [("kent", "essex"), (None, None)]


def _pairs() -> list[Any]:
    out = []
    for (first_area, second_area), (first, second), one_sort in itertools.product(
        AREAS, KNOWN + NOW, (True, False)
    ):
        out.append(
            pytest.param(
                (first_area, stats.Year(first.year, first.known, first.until, one_sort)),
                (second_area, stats.Year(second.year, second.known, second.until, one_sort)),
                id=f"{first_area or 'every area'} {first.year}->{second.year} "
                f"{'known' if first.known else 'now'} {'one sort' if one_sort else 'lookups'}",
            )
        )
    return out


@pytest.mark.parametrize(("first", "second"), _pairs())
@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=["postgresql", "sqlite"])
def test_a_kept_statement_given_other_values_is_the_statement_built_for_them(
    first: tuple[str | None, stats.Year], second: tuple[str | None, stats.Year], dialect: Any
) -> None:
    assert stats._shape(*first) == stats._shape(*second)
    kept, fresh = stats._build_statements(*first), stats._build_statements(*second)
    assert set(kept) == set(fresh) == {*stats.TABLES} - stats.SNAPSHOT_TABLES | {stats.SNAPSHOT}
    for name in kept:
        was, now = kept[name].compile(dialect=dialect), fresh[name].compile(dialect=dialect)
        assert str(was) == str(now), name
        given = was.construct_params(stats._values(*second))
        assert given == now.construct_params(), name
        # and the values did change: the first pair's statement carried its own
        assert was.construct_params() != given, name
    # The people behind a cell: each table's statement, with the cell's row and column as parameters too.
    cell = {"cell_row": "1", "cell_col": "2"}
    for table in stats.TABLES:
        was, now = (stats._build_cell(*pair, table)[0].compile(dialect=dialect) for pair in (first, second))
        assert str(was) == str(now), table
        given = was.construct_params({**stats._values(*second), **cell})
        assert given == now.construct_params(cell), table
        assert was.construct_params(cell) != given, table


def test_each_shape_is_built_once_and_other_shapes_apart() -> None:
    kent, essex = ("kent", stats.Year(2023)), ("essex", stats.Year(2026, until=dt.date(2025, 11, 30)))
    assert stats._statements(*kent) is stats._statements(*essex)
    assert stats._statements(*kent) is not stats._statements(None, stats.Year(2023))
    known = stats.Year(2023, known=stats.Year(2023).published_at())
    assert stats._statements(*kent) is not stats._statements("kent", known)
