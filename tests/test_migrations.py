"""The Alembic migrations: up to head, no drift from the models, down to base and up again,
on MariaDB (utf8mb4 throughout) and on SQLite (what `make run` uses)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import api.models  # noqa: F401 - registers every table on SQLModel.metadata
from api.db import make_engine
from api.movies.models import Movie
from api.types import utcnow
from tests.conftest import migrate, recreate_database
from tests.importer import database_url, drop_database
from worker.cli import alembic_config

MIGRATIONS_DATABASE_URL = database_url("marquee_test_migrations")
MIGRATIONS_SCHEMA = make_url(MIGRATIONS_DATABASE_URL).database
EMOJI_TITLE = "Popcorn 🍿 and film 🎬: 𝔐𝔞𝔯𝔮𝔲𝔢𝔢"


async def downgrade(url: str, revision: str = "base") -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def model_drift(engine: AsyncEngine) -> list[Any]:
    """What `alembic check` would report: differences between the models and the schema."""

    def compare(sync: Connection) -> list[Any]:
        context = MigrationContext.configure(
            sync,
            opts={
                "target_metadata": SQLModel.metadata,
                "compare_type": True,
                "render_as_batch": sync.dialect.name == "sqlite",
            },
        )
        return list(compare_metadata(context, SQLModel.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


MODEL_TABLES = set(SQLModel.metadata.tables)


def movie_values(movie_id: int, title: str) -> dict[str, Any]:
    """A movie row with every required column filled (strings with `title`), whatever columns
    the model has grown, so the round trip covers every text column of the table."""
    values: dict[str, Any] = {"id": movie_id}
    for column in Movie.__table__.columns:  # type: ignore[attr-defined]
        if column.name in values or column.nullable or column.default is not None:
            continue
        kind = column.type._type_affinity  # the generic type under variants and decorators
        if issubclass(kind, sa.String):
            values[column.name] = title[: column.type.length] if column.type.length else title
        elif issubclass(kind, sa.DateTime):
            values[column.name] = utcnow()
        elif issubclass(kind, sa.Date):
            values[column.name] = date(2000, 1, 1)
        else:
            values[column.name] = 0
    return values


async def emoji_round_trip(engine: AsyncEngine) -> str:
    """Insert a movie titled EMOJI_TITLE, find it by that title and read the title back;
    rolled back afterwards."""
    table = Movie.__table__  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(insert(table).values(movie_values(424242, EMOJI_TITLE)))
        found = (
            await conn.execute(
                select(table.c.id, table.c.title).where(table.c.title == EMOJI_TITLE)
            )
        ).one()
        await transaction.rollback()
    assert found.id == 424242
    return str(found.title)


@pytest.fixture(scope="module")
async def migrated() -> AsyncIterator[AsyncEngine]:
    await recreate_database(MIGRATIONS_DATABASE_URL)
    await migrate(MIGRATIONS_DATABASE_URL, "head")
    engine = make_engine(MIGRATIONS_DATABASE_URL)
    yield engine
    await engine.dispose()
    await drop_database(MIGRATIONS_DATABASE_URL)


class TestMariaDBMigrations:
    async def test_upgrade_to_head_creates_every_model_table(self, migrated: AsyncEngine) -> None:
        assert await current_revision(migrated) == head_revision(MIGRATIONS_DATABASE_URL)
        assert await table_names(migrated) == MODEL_TABLES | {"alembic_version"}

    async def test_migrated_schema_has_no_drift_from_the_models(
        self, migrated: AsyncEngine
    ) -> None:
        assert await model_drift(migrated) == []

    async def test_every_table_uses_utf8mb4(self, migrated: AsyncEngine) -> None:
        async with migrated.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES "
                        "WHERE TABLE_SCHEMA = :schema"
                    ),
                    {"schema": MIGRATIONS_SCHEMA},
                )
            ).all()
        collations = dict(rows)
        assert set(collations) == MODEL_TABLES | {"alembic_version"}
        assert {name: c for name, c in collations.items() if not c.startswith("utf8mb4")} == {}

    async def test_every_text_column_uses_utf8mb4(self, migrated: AsyncEngine) -> None:
        async with migrated.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME "
                        "FROM information_schema.COLUMNS "
                        "WHERE TABLE_SCHEMA = :schema AND CHARACTER_SET_NAME IS NOT NULL"
                    ),
                    {"schema": MIGRATIONS_SCHEMA},
                )
            ).all()
        assert rows, "expected some text columns"
        assert [row for row in rows if row[2] != "utf8mb4"] == []

    async def test_four_byte_emoji_title_round_trips(self, migrated: AsyncEngine) -> None:
        assert await emoji_round_trip(migrated) == EMOJI_TITLE

    async def test_downgrade_to_base_then_upgrade_again(self, migrated: AsyncEngine) -> None:
        await downgrade(MIGRATIONS_DATABASE_URL, "base")
        assert await table_names(migrated) == {"alembic_version"}
        assert await current_revision(migrated) is None

        await migrate(MIGRATIONS_DATABASE_URL, "head")
        assert await table_names(migrated) == MODEL_TABLES | {"alembic_version"}
        assert await current_revision(migrated) == head_revision(MIGRATIONS_DATABASE_URL)
        assert await model_drift(migrated) == []


class TestSQLiteMigrations:
    @pytest.fixture
    async def sqlite_url(self, tmp_path: Path) -> str:
        url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
        await recreate_database(url)
        return url

    async def test_upgrade_downgrade_upgrade_on_sqlite(self, sqlite_url: str) -> None:
        await migrate(sqlite_url, "head")
        engine = make_engine(sqlite_url)
        try:
            assert await current_revision(engine) == head_revision(sqlite_url)
            assert await table_names(engine) == MODEL_TABLES | {"alembic_version"}
            assert await model_drift(engine) == []

            await downgrade(sqlite_url, "base")
            assert await table_names(engine) == {"alembic_version"}

            await migrate(sqlite_url, "head")
            assert await table_names(engine) == MODEL_TABLES | {"alembic_version"}
            assert await model_drift(engine) == []
        finally:
            await engine.dispose()

    async def test_emoji_title_round_trips_on_sqlite(self, sqlite_url: str) -> None:
        await migrate(sqlite_url, "head")
        engine = make_engine(sqlite_url)
        try:
            assert await emoji_round_trip(engine) == EMOJI_TITLE
        finally:
            await engine.dispose()
