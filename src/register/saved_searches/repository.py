"""Saved searches in the database: one row each, its content sealed under its own data key (bound to the row's
id), found by area and the blind-index token of the operation's reference. A listing is two queries (the rows,
then their data keys unwrapped in one), whatever the number of searches."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..crypto.envelope import BlindIndex
from ..store import models as m
from ..store.cipher import RecordCipher
from .schemas import NewSavedSearch, SavedSearch

TABLE, COLUMN = "saved_search", "search_sealed"
TOKEN_KIND = "saved_search_operation"


def operation_token(blind: BlindIndex, operation: str) -> bytes:
    """The operation's reference as a keyed token: case, accents and spacing do not make another operation."""
    folded = " ".join(unicodedata.normalize("NFKC", operation).casefold().split())
    return blind.token(TOKEN_KIND, folded)


def add(
    session: Session,
    cipher: RecordCipher,
    blind: BlindIndex,
    *,
    area: str,
    operation: str,
    new: NewSavedSearch,
    user: str,
    now: dt.datetime,
) -> uuid.UUID:
    search_id = uuid.uuid4()
    key_id = cipher.new_key(search_id)
    content = {
        "name": new.name,
        "operation": operation,
        "request": new.request.model_dump(mode="json", include={"query", "include_archived", "sort"}),
        "labels": new.labels,
        "form": new.form,
    }
    session.add(
        m.SavedSearch(
            id=search_id,
            area=area,
            operation_token=operation_token(blind, operation),
            data_key_id=key_id,
            search_sealed=cipher.seal(key_id, TABLE, COLUMN, search_id, json.dumps(content).encode()),
            created_by=user,
            created_at=now,
        )
    )
    session.flush()
    return search_id


def _open(cipher: RecordCipher, row: m.SavedSearch) -> SavedSearch:
    content = json.loads(cipher.open(row.data_key_id, TABLE, COLUMN, row.id, row.search_sealed))
    return SavedSearch(
        id=row.id,
        name=content["name"],
        operation=content["operation"],
        request=content["request"],
        labels=content.get("labels", []),
        form=content.get("form", {}),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def for_operation(
    session: Session, cipher: RecordCipher, blind: BlindIndex, *, area: str, operation: str
) -> list[SavedSearch]:
    """The area's saved searches for this operation, newest first."""
    rows = list(
        session.scalars(
            select(m.SavedSearch)
            .where(
                m.SavedSearch.area == area,
                m.SavedSearch.operation_token == operation_token(blind, operation),
            )
            .order_by(m.SavedSearch.created_at.desc(), m.SavedSearch.id)
        )
    )
    cipher.load({r.data_key_id for r in rows})
    return [_open(cipher, r) for r in rows]


def one(
    session: Session,
    cipher: RecordCipher,
    blind: BlindIndex,
    search_id: uuid.UUID,
    *,
    area: str,
    operation: str,
) -> SavedSearch | None:
    """One saved search of this area and operation (None: no such search here)."""
    row = session.scalars(
        select(m.SavedSearch).where(
            m.SavedSearch.id == search_id,
            m.SavedSearch.area == area,
            m.SavedSearch.operation_token == operation_token(blind, operation),
        )
    ).first()
    return None if row is None else _open(cipher, row)


def remove(session: Session, search_id: uuid.UUID) -> None:
    """Delete the row and its data key (crypto-shredding any copy of the row left in a backup)."""
    key_id = session.scalar(select(m.SavedSearch.data_key_id).where(m.SavedSearch.id == search_id))
    session.execute(delete(m.SavedSearch).where(m.SavedSearch.id == search_id))
    if key_id is not None:
        session.execute(delete(m.DataKey).where(m.DataKey.id == key_id))
