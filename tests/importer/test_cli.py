"""`marquee import tmdb` and `marquee migrate` through the real command line (worker.cli.app),
against databases of their own named by DATABASE_URL."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from typer.testing import CliRunner

from api.db import make_engine
from api.settings import get_settings
from tests.conftest import migrate, recreate_database
from tests.importer import (
    SAMPLE_FILES,
    database_url,
    drop_database,
    empty_all_tables,
    expected_from_files,
    read_rows,
    table_counts,
    write_rows,
)
from worker.cli import app

CLI_IMPORT_URL = database_url("marquee_test_import_cli")
CLI_MIGRATE_URL = database_url("marquee_test_import_cli_migrate")
MODEL_TABLES = set(SQLModel.metadata.tables)


def flat(text: str) -> str:
    """The output with line wrapping undone (rich wraps at the console width)."""
    return " ".join(text.split())


async def marquee(*args: str | Path) -> Result:
    """Run the command line in a thread: its commands call asyncio.run themselves."""
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, app, [str(a) for a in args], env={"COLUMNS": "250"}
    )


async def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


@contextmanager
def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("DATABASE_URL")
    get_settings.cache_clear()


@pytest.fixture(scope="module")
async def cli_engine() -> AsyncIterator[AsyncEngine]:
    await recreate_database(CLI_IMPORT_URL)
    await migrate(CLI_IMPORT_URL)
    engine = make_engine(CLI_IMPORT_URL)
    yield engine
    await engine.dispose()
    await drop_database(CLI_IMPORT_URL)


@pytest.fixture
async def import_db(
    cli_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    """The CLI import database, emptied, named by DATABASE_URL for this test."""
    await empty_all_tables(cli_engine)
    with use_database(monkeypatch, CLI_IMPORT_URL):
        yield cli_engine


def sample_args() -> list[str | Path]:
    movies, credits, posters = SAMPLE_FILES
    return ["import", "tmdb", "--movies", movies, "--credits", credits, "--posters", posters]


class TestImportTmdbCommand:
    async def test_import_commits_the_sample_and_prints_the_report(
        self, import_db: AsyncEngine
    ) -> None:
        expected = expected_from_files(*SAMPLE_FILES)

        result = await marquee(*sample_args())

        assert result.exit_code == 0, result.output
        assert (
            "imported 300 movies, filled in 0 already present that lacked part of their record, "
            "skipped 0 already complete and 0 invalid; "
            f"created {len(expected.people)} people and {len(expected.genres)} genres"
        ) in flat(result.output)
        counts = await table_counts(import_db)
        # An outbox entry for every movie and every person credited on one.
        assert (counts["movie"], counts["person"], counts["search_outbox"]) == (
            300,
            len(expected.people),
            300 + len(expected.people),
        )

    async def test_a_second_import_reports_every_movie_as_already_present(
        self, import_db: AsyncEngine
    ) -> None:
        first = await marquee(*sample_args())
        assert first.exit_code == 0, first.output
        before = await table_counts(import_db)

        second = await marquee(*sample_args())

        assert second.exit_code == 0, second.output
        assert (
            "imported 0 movies, filled in 0 already present that lacked part of their record, "
            "skipped 300 already complete and 0 invalid; created 0 people and 0 genres"
        ) in flat(second.output)
        assert await table_counts(import_db) == before

    async def test_skipped_rows_are_listed_with_their_reasons(
        self, import_db: AsyncEngine, tmp_path: Path
    ) -> None:
        rows = read_rows(SAMPLE_FILES[0])[:3]
        rows[1]["id"] = "twelve"
        movies = write_rows(tmp_path / "movies.csv", rows, list(rows[0].keys()))

        result = await marquee("import", "tmdb", "--movies", movies)

        assert result.exit_code == 0, result.output
        output = flat(result.output)
        assert "imported 2 movies, filled in 0" in output
        assert "skipped 0 already complete and 1 invalid" in output
        assert "skipped line 3 (id 'twelve'): 'twelve' is not a number" in output
        assert (await table_counts(import_db))["movie"] == 2

    @pytest.mark.parametrize("option", ["--movies", "--credits", "--posters"])
    async def test_a_missing_file_exits_non_zero_and_names_it(
        self, import_db: AsyncEngine, tmp_path: Path, option: str
    ) -> None:
        missing = tmp_path / "nowhere.csv.gz"
        args = [str(a) for a in sample_args()]
        args[args.index(option) + 1] = str(missing)

        result = await marquee(*args)

        assert result.exit_code != 0
        output = flat(result.output)
        assert "nowhere.csv.gz" in output
        assert "does not exist" in output
        assert (await table_counts(import_db))["movie"] == 0


class TestMigrateCommand:
    @pytest.fixture
    async def fresh_database(self, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
        await recreate_database(CLI_MIGRATE_URL)
        with use_database(monkeypatch, CLI_MIGRATE_URL):
            yield CLI_MIGRATE_URL
        await drop_database(CLI_MIGRATE_URL)

    async def test_migrate_creates_every_table_in_a_fresh_database(
        self, fresh_database: str
    ) -> None:
        assert await tables(fresh_database) == set()

        result = await marquee("migrate")

        assert result.exit_code == 0, result.output
        assert "database migrated to head" in flat(result.output)
        assert await tables(fresh_database) == MODEL_TABLES | {"alembic_version"}

    async def test_migrate_twice_is_a_no_op(self, fresh_database: str) -> None:
        assert (await marquee("migrate")).exit_code == 0

        again = await marquee("migrate")

        assert again.exit_code == 0, again.output
        assert await tables(fresh_database) == MODEL_TABLES | {"alembic_version"}

    async def test_migrate_creates_the_sqlite_file_and_its_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "not" / "yet" / "marquee.db"
        url = f"sqlite+aiosqlite:///{path}"
        with use_database(monkeypatch, url):
            result = await marquee("migrate")

        assert result.exit_code == 0, result.output
        assert path.is_file()
        assert await tables(url) == MODEL_TABLES | {"alembic_version"}
