"""blind tokens' (kind, token) index also carries the record id

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01

`ix_blind_token_kind_token (kind, token)` becomes `ix_blind_token_kind_token_nominal (kind, token,
nominal_id)`. The duplicate cascade's self-join (a record's tokens against everyone's holding the same one),
the associations' joins and the embedded search's narrowing all look a token up to find whose it is: with the
record id in the index those lookups read the index alone, not a table row per token. Rebuilding every pair
of the register (each quality run of every area) took 2.4 to 3.2 s at 100,000 people and takes 1.2 to 1.7 s
(issue #20). The index is larger (no duplicate keys to fold: 309 MB instead of 104 MB at 5.1 million tokens);
the new one is built before the old one is dropped, so no lookup is ever without an index."""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_blind_token_kind_token_nominal", "blind_token", ["kind", "token", "nominal_id"])
    op.drop_index("ix_blind_token_kind_token", table_name="blind_token")


def downgrade() -> None:
    op.create_index("ix_blind_token_kind_token", "blind_token", ["kind", "token"])
    op.drop_index("ix_blind_token_kind_token_nominal", table_name="blind_token")
