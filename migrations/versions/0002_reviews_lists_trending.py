"""reviews, watchlist and favorites, activity and trending

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:14:21.782292
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Microsecond timestamps on MySQL, as in 0001: newest-first lists need them to order stably.
TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "list_entry",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("added_at", TIMESTAMP6, nullable=False),
        sa.CheckConstraint("kind IN ('watchlist', 'favorite')", name="ck_list_entry_kind"),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "kind", "movie_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_list_entry_movie", "list_entry", ["movie_id"], unique=False)
    op.create_index(
        "ix_list_entry_user_kind_added", "list_entry", ["user_id", "kind", "added_at"], unique=False
    )
    op.create_table(
        "movie_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_movie_activity_created_movie",
        "movie_activity",
        ["created_at", "movie_id"],
        unique=False,
    )
    op.create_index("ix_movie_activity_movie", "movie_activity", ["movie_id"], unique=False)
    op.create_index("ix_movie_activity_user", "movie_activity", ["user_id"], unique=False)
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column(
            "rating",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP6, nullable=False),
        sa.Column("updated_at", TIMESTAMP6, nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "movie_id", name="uq_review_user_movie"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index(
        "ix_review_movie_created", "review", ["movie_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_review_user_created", "review", ["user_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "trending_score",
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column(
            "score",
            sa.Double()
            .with_variant(mysql.DOUBLE(), "mariadb")
            .with_variant(mysql.DOUBLE(), "mysql"),
            nullable=False,
        ),
        sa.Column("computed_at", TIMESTAMP6, nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movie.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("window", "movie_id"),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    op.create_index("ix_trending_score_movie", "trending_score", ["movie_id"], unique=False)
    op.create_index(
        "ix_trending_score_window_score", "trending_score", ["window", "score"], unique=False
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first would fail on MariaDB for
    # those that serve a foreign key.
    op.drop_table("trending_score")
    op.drop_table("review")
    op.drop_table("movie_activity")
    op.drop_table("list_entry")
