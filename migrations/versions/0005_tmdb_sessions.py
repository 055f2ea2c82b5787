"""tmdb sessions: TMDB's login flow on /3 (request tokens and sessions)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond timestamps on MySQL, as in 0001 and 0002.
TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tmdb_request_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.Column("expires_at", TIMESTAMP6, nullable=False),
        # A token goes with the app's key and with the account that approved it.
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_tmdb_request_token_token_hash"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_tmdb_request_token_expires", "tmdb_request_token", ["expires_at"], unique=False
    )
    op.create_index(
        "ix_tmdb_request_token_api_key", "tmdb_request_token", ["api_key_id"], unique=False
    )
    op.create_index("ix_tmdb_request_token_user", "tmdb_request_token", ["user_id"], unique=False)
    op.create_table(
        "tmdb_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.Column("last_used_at", TIMESTAMP6, nullable=True),
        sa.Column("revoked_at", TIMESTAMP6, nullable=True),
        # A session goes with its account and with the key it was made with.
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_hash", name="uq_tmdb_session_session_hash"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_tmdb_session_user_created", "tmdb_session", ["user_id", "created_at"], unique=False
    )
    op.create_index("ix_tmdb_session_api_key", "tmdb_session", ["api_key_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tmdb_session")  # its indexes go with it
    op.drop_table("tmdb_request_token")
