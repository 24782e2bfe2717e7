"""The `app`, `client` and `token` fixtures live in tests/conftest.py, shared by every folder; the
helpers the API tests share live in tests/api/helpers.py."""

from __future__ import annotations

from tests.api.helpers import Minter, auth

__all__ = ["Minter", "auth"]
