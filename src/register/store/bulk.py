"""Writing many rows of one table at once, in the caller's transaction: PostgreSQL's COPY where the engine has
it (through psycopg's copy protocol, which adapts each value as a query parameter would be), a multi-row
INSERT elsewhere. For bulk loads only (the synthetic generator): rows go in as given, with no ORM events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def write_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys, each a column of `table`) into `table`."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    unknown = [name for name in names if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column {unknown[0]!r}")
    columns = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in names)
    quoted = connection.dialect.identifier_preparer.format_table(table)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {quoted} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
