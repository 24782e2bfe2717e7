"""The routers every capability declares its routes on: FastAPI's, declining at once a request no route of
theirs can answer.

FastAPI (0.16x) keeps each included router whole and, for every request, asks each in turn whether one of its
routes matches, trying every route's pattern on the way (and again in the router that answers). The search
was the 24th router asked and spent about a millisecond there before its own route was found. A route's
pattern only matches a path that contains the route's literal head (the path up to its first `{`), so a
router whose routes share a head (`/v1/nominals/`, `/records/`, `/audit`) can decline any path without it,
at the cost of one substring test. The head is a necessary condition, never a sufficient one: a path that
contains it goes on to FastAPI's own matching, so which route answers, and with what, is unchanged.
"""

from __future__ import annotations

import os
from typing import Any

import fastapi
from starlette.routing import Match
from starlette.types import Scope


def literal_head(path: str) -> str:
    """What every path a route pattern matches starts with: the pattern up to its first parameter."""
    return path.split("{", 1)[0]


class APIRouter(fastapi.APIRouter):
    """`fastapi.APIRouter` with the head test in front of its matching (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: tuple[int, str] = (-1, "")

    def common_head(self) -> str:
        """The longest head all this router's routes share ("" when a route has no path to read, or they
        share none); worked out again whenever routes are added."""
        count = len(self.routes)
        if self._head[0] != count:
            paths = [getattr(route, "path", None) for route in self.routes]
            heads = [literal_head(p) for p in paths if isinstance(p, str)]
            shared = os.path.commonprefix(heads) if heads and len(heads) == len(paths) else ""
            self._head = (count, shared)
        return self._head[1]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        head = self.common_head()
        # `in`, not `startswith`: under a root path the route path is a suffix of scope["path"]
        if head and head not in scope.get("path", ""):
            return Match.NONE, {}
        return super().matches(scope)
