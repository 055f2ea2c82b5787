"""api keys: an application's credential on the TMDB-compatible layer (/3)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond timestamps on MySQL, as in 0001 and 0002.
TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("key_prefix", sa.CHAR(length=8), nullable=False),
        sa.Column("key_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.Column("last_used_at", TIMESTAMP6, nullable=True),
        sa.Column("revoked_at", TIMESTAMP6, nullable=True),
        # The account goes with its keys (DELETE /users/me, or an operator deleting the row).
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_api_key_user_created", "api_key", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("api_key")  # its indexes go with it
