"""baseline: the whole register schema, and the audit tables made append-only

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Every migration must run on SQLite and PostgreSQL, up and down, and work with the
previous release still running against the same database (expand, then contract).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


AUDIT_TABLES = ("audit_event", "audit_seal")

PG_APPEND_ONLY = [
    """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    *[
        f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {t} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        for t in AUDIT_TABLES
    ],
]
PG_DROP = [f"DROP TRIGGER {t}_append_only ON {t}" for t in AUDIT_TABLES] + ["DROP FUNCTION audit_append_only()"]
SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER {t}_no_{op_.lower()} BEFORE {op_} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {op_} on {t} refused'); END"
    for t in AUDIT_TABLES
    for op_ in ("UPDATE", "DELETE")
]
SQLITE_DROP = [f"DROP TRIGGER {t}_no_{op_.lower()}" for t in AUDIT_TABLES for op_ in ("UPDATE", "DELETE")]


def _is_pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('actor_user', sa.String(length=100), nullable=False),
    sa.Column('actor_agency', sa.String(length=20), nullable=True),
    sa.Column('actor_area', sa.String(length=40), nullable=True),
    sa.Column('actor_roles', sa.String(length=200), nullable=True),
    sa.Column('nominal_id', sa.Uuid(), nullable=True),
    sa.Column('section', sa.String(length=30), nullable=True),
    sa.Column('item_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.String(length=500), nullable=True),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_event_event_id'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor', ['actor_user', 'seq'], unique=False)
        batch_op.create_index('ix_audit_event_nominal', ['nominal_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_event_occurred', ['occurred_at'], unique=False)

    op.create_table('data_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('nominal_id', sa.Uuid(), nullable=False),
    sa.Column('kek_version', sa.String(length=20), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_key'))
    )
    with op.batch_alter_table('data_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_key_kek_version'), ['kek_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_key_nominal_id'), ['nominal_id'], unique=False)

    op.create_table('key_check',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('check_value', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_key_check'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('nominal_id', sa.Uuid(), nullable=False),
    sa.Column('record_version', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parked', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['processed_at', 'available_at'], unique=False)

    op.create_table('audit_seal',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('event_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_seq'], ['audit_event.seq'], name=op.f('fk_audit_seal_event_seq_audit_event')),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_audit_seal')),
    sa.UniqueConstraint('event_seq', name=op.f('uq_audit_seal_event_seq'))
    )
    op.create_table('nominal',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('nominal_type', sa.String(length=20), nullable=False),
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('managing_unit', sa.String(length=200), nullable=False),
    sa.Column('lead_agency', sa.String(length=20), nullable=False),
    sa.Column('mappa_category', sa.SmallInteger(), nullable=True),
    sa.Column('mappa_level', sa.SmallInteger(), nullable=True),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('merged_into_id', sa.Uuid(), nullable=True),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('identity_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_nominal_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['nominal.id'], name=op.f('fk_nominal_merged_into_id_nominal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nominal'))
    )
    with op.batch_alter_table('nominal', schema=None) as batch_op:
        batch_op.create_index('ix_nominal_area_status', ['area', 'status'], unique=False)
        batch_op.create_index('ix_nominal_category_level', ['mappa_category', 'mappa_level'], unique=False)

    op.create_table('blind_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('nominal_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('token', sa.LargeBinary(length=16), nullable=False),
    sa.ForeignKeyConstraint(['nominal_id'], ['nominal.id'], name=op.f('fk_blind_token_nominal_id_nominal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blind_token'))
    )
    with op.batch_alter_table('blind_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blind_token_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_blind_token_kind_token', ['kind', 'token'], unique=False)
        batch_op.create_index(batch_op.f('ix_blind_token_nominal_id'), ['nominal_id'], unique=False)

    op.create_table('chronology_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('nominal_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('amends_id', sa.Uuid(), nullable=True),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('payload_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_agency', sa.String(length=20), nullable=False),
    sa.Column('recorded_area', sa.String(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['amends_id'], ['chronology_entry.id'], name=op.f('fk_chronology_entry_amends_id_chronology_entry')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_chronology_entry_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['nominal_id'], ['nominal.id'], name=op.f('fk_chronology_entry_nominal_id_nominal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chronology_entry'))
    )
    with op.batch_alter_table('chronology_entry', schema=None) as batch_op:
        batch_op.create_index('ix_chronology_kind_occurred', ['kind', 'occurred_at'], unique=False)
        batch_op.create_index('ix_chronology_nominal_occurred', ['nominal_id', 'occurred_at'], unique=False)

    op.create_table('item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('nominal_id', sa.Uuid(), nullable=False),
    sa.Column('section', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=True),
    sa.Column('category', sa.SmallInteger(), nullable=True),
    sa.Column('audience', sa.String(length=60), nullable=True),
    sa.Column('ref', sa.String(length=100), nullable=True),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('payload_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_agency', sa.String(length=20), nullable=False),
    sa.Column('recorded_area', sa.String(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.Column('ended_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_item_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['nominal_id'], ['nominal.id'], name=op.f('fk_item_nominal_id_nominal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item'))
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index('ix_item_nominal_section', ['nominal_id', 'section'], unique=False)
        batch_op.create_index('ix_item_section_due', ['section', 'due_on'], unique=False)
        batch_op.create_index('ix_item_section_kind', ['section', 'kind'], unique=False)


    # The database itself refuses UPDATE and DELETE (and on PostgreSQL TRUNCATE) on the audit log.
    for statement in PG_APPEND_ONLY if _is_pg() else SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    for statement in PG_DROP if _is_pg() else SQLITE_DROP:
        op.execute(statement)
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index('ix_item_section_kind')
        batch_op.drop_index('ix_item_section_due')
        batch_op.drop_index('ix_item_nominal_section')

    op.drop_table('item')
    with op.batch_alter_table('chronology_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_chronology_nominal_occurred')
        batch_op.drop_index('ix_chronology_kind_occurred')

    op.drop_table('chronology_entry')
    with op.batch_alter_table('blind_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blind_token_nominal_id'))
        batch_op.drop_index('ix_blind_token_kind_token')
        batch_op.drop_index(batch_op.f('ix_blind_token_item_id'))

    op.drop_table('blind_token')
    with op.batch_alter_table('nominal', schema=None) as batch_op:
        batch_op.drop_index('ix_nominal_category_level')
        batch_op.drop_index('ix_nominal_area_status')

    op.drop_table('nominal')
    op.drop_table('audit_seal')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    op.drop_table('key_check')
    with op.batch_alter_table('data_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_key_nominal_id'))
        batch_op.drop_index(batch_op.f('ix_data_key_kek_version'))

    op.drop_table('data_key')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_occurred')
        batch_op.drop_index('ix_audit_event_nominal')
        batch_op.drop_index('ix_audit_event_actor')

    op.drop_table('audit_event')
