"""blind tokens' (kind, token) index also carries the record id, on PostgreSQL

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01

On PostgreSQL `ix_blind_token_kind_token (kind, token)` becomes `(kind, token) INCLUDE (nominal_id)`. The
duplicate cascade's self-join (a record's tokens against everyone's holding the same one), the associations'
joins and the embedded search's narrowing look a token up to find whose it is: with the record id in the
index those lookups read the index alone, not a table row per token (rebuilding every pair of the register
at 100,000 people: 2.4-3.2 s to 1.2-1.7 s, issue #20). The new index is built before the old one is dropped,
then takes its name, so no lookup is ever without one.

Not on SQLite: there a three-column index made its planner answer a record's pairs (`among`, after every
write of tokens) by scanning a kind's whole index instead of the record's own tokens: 0.27 s to 78 s for
1,000 records at 17,000 people. SQLite keeps `(kind, token)`."""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _replace(definition: str) -> None:
    """Build the index anew under a temporary name, drop the old one, then give the new one its name."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_blind_token_kind_token_next ON blind_token {definition}")
    op.execute("DROP INDEX ix_blind_token_kind_token")
    op.execute("ALTER INDEX ix_blind_token_kind_token_next RENAME TO ix_blind_token_kind_token")


def upgrade() -> None:
    _replace("(kind, token) INCLUDE (nominal_id)")


def downgrade() -> None:
    _replace("(kind, token)")
