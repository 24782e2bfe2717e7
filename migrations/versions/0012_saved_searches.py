"""saved searches: an operation's searches kept to run again, sealed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Additive only. The investigator's search pages (src/register/web/search.py) keep an operation's searches
(src/register/saved_searches/). Criteria are personal data: the name, the operation's reference and the
criteria are sealed in `search_sealed` under the saved search's own data key; the operation is looked up by
its blind-index token, with the area, through one index."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("operation_token", sa.LargeBinary(length=16), nullable=False),
        sa.Column("data_key_id", sa.Uuid(), nullable=False),
        sa.Column("search_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["data_key_id"], ["data_key.id"], name=op.f("fk_saved_search_data_key_id_data_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search")),
    )
    op.create_index(
        "ix_saved_search_area_operation", "saved_search", ["area", "operation_token"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_saved_search_area_operation", table_name="saved_search")
    op.drop_table("saved_search")
