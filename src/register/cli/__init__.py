"""The `register` command, a module per capability.

`main` (the group) and what the commands share are in `cli/base.py`. Each capability's commands live in a
module of their own (`cli/keys.py`, `cli/audit.py`, ...) and register themselves on `main` when imported: the
imports below are the list of them. A command parses its options, calls one use case and prints the result;
it never commits nor builds an audit entry.
"""

from __future__ import annotations

# The commands: importing a module adds its commands to `main`.
from . import (
    audit,
    backup,
    db,
    demo,
    keys,
    merges,
    quality,
    records,
    retention,
    search,
    statistics,
    synthetic,
    watches,
    webhooks,
)
from .base import main, open_store, progress_echo

__all__ = [
    "main",
    "open_store",
    "progress_echo",
    # the command modules
    "audit",
    "backup",
    "db",
    "demo",
    "keys",
    "merges",
    "quality",
    "records",
    "retention",
    "search",
    "statistics",
    "synthetic",
    "webhooks",
    "watches",
]
