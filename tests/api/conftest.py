"""Helpers for API tests. The `app`, `client` and `token` fixtures live in tests/conftest.py, shared by every
folder."""

from __future__ import annotations

from tests.conftest import Minter

__all__ = ["Minter", "auth"]


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}
