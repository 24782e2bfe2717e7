"""Use cases: what a user can do, shared by the API, the web pages and the CLI.

`guard` asks the policy (and audits a refusal); each capability's `service.py` holds its use cases.
"""

from __future__ import annotations

from .guard import ACTION_CATEGORY, Access, Refused, authorize, authorize_new, authorize_record, refuse

__all__ = ["ACTION_CATEGORY", "Access", "Refused", "authorize", "authorize_new", "authorize_record", "refuse"]
