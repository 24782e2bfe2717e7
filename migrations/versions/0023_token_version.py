"""token version: which blind-token definitions every record's tokens follow

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30

Additive. Version 2 of the blind tokens (decision 53) adds, per item: a vehicle's mark characters by position
from either end, its make, model and colour; an offence's words, code, year and victims' profiles. They need
the blind-index key, which a migration does not hold, so this one only records what the tokens already in the
database follow: 2 on an empty register (every record will be written with them), 1 otherwise. The embedded
search narrows by the new kinds only at version 2, so until then it still finds every hit, only more slowly;
`register db upgrade` then runs `register tokens rebuild` (which ends by setting version 2) by itself."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "token_version",
        sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
    )
    empty = op.get_bind().execute(sa.text("SELECT 1 FROM nominal LIMIT 1")).first() is None
    op.bulk_insert(table, [{"id": 1, "version": 2 if empty else 1}])


def downgrade() -> None:
    op.drop_table("token_version")
