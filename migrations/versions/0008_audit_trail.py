"""audit trail: one row per admin write, with who, when, what and the changed fields' values

No foreign key to the account: an entry outlives its author (the email at the time is kept).
Each filter of GET /admin/audit has an index ending with the id, the listing's order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond timestamps on MySQL, as in 0001 and 0002.
TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_audit_entry_resource", ["resource", "resource_id", "id"]),
    ("ix_audit_entry_user", ["user_id", "id"]),
    ("ix_audit_entry_action", ["action", "id"]),
    ("ix_audit_entry_at", ["at", "id"]),
)


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP6, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_email", sa.String(length=320), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    for name, columns in INDEXES:
        op.create_index(name, "audit_entry", columns, unique=False)


def downgrade() -> None:
    op.drop_table("audit_entry")  # its indexes go with it
