"""What a saved search holds, and what a listing shows of it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..search.query import SearchRequest

NAME_MAX = 100
OPERATION_MAX = 500


class NewSavedSearch(BaseModel):
    """A search to keep for an operation: its name, the query (sort and archive switch included; paging is
    not kept) and, for the web form, the answers it was built from and the label of each criterion."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
    request: SearchRequest
    labels: Annotated[list[str], Field(max_length=100)] = []
    form: dict[str, Any] = {}


class SavedSearch(BaseModel):
    id: uuid.UUID
    name: str
    operation: str
    request: SearchRequest
    labels: list[str] = []
    form: dict[str, Any] = {}
    created_by: str
    created_at: dt.datetime
