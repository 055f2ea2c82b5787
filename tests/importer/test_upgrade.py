"""Upgrading: a database imported before the whole TMDB record was kept is filled in by running
the import again over it, without dropping the catalog or undoing admins' edits."""

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_engine, make_sessionmaker
from api.movies.queries import movie_details
from importer.tmdb import import_tmdb
from tests.conftest import migrate, recreate_database
from tests.importer import SAMPLE_FILES, database_url, drop_database, read_rows

URL = database_url("marquee_test_upgrade")


@pytest.fixture
async def old_database() -> AsyncIterator[AsyncEngine]:
    """A database at the schema before the whole record (0002) holding one movie as the older
    import kept it: no money, keywords, companies, countries, languages, crew or genders."""
    await recreate_database(URL)
    await migrate(URL, "0002")
    row = read_rows(SAMPLE_FILES[0])[0]
    engine = make_engine(URL)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO movie (id, title, original_title, sort_title, overview, "
                "original_language, status, popularity, base_vote_average, base_vote_count, "
                "user_rating_sum, user_rating_count, vote_average, vote_count, created_at, "
                "updated_at) VALUES (:id, :t, :t, :t, '', 'en', 'Released', 1, 5, 1, 0, 0, 5, 1, "
                "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
            ),
            {"id": int(row["id"]), "t": row["title"]},
        )
    await migrate(URL)
    yield engine
    await engine.dispose()
    await drop_database(URL)


class TestImportOverAnOlderDatabase:
    async def test_the_record_an_older_import_lacked_is_filled_in(
        self, old_database: AsyncEngine
    ) -> None:
        row = read_rows(SAMPLE_FILES[0])[0]
        movie_id = int(row["id"])
        async with old_database.begin() as conn:  # an admin set the homepage meanwhile
            await conn.execute(
                text("UPDATE movie SET homepage = 'https://edited.example' WHERE id = :id"),
                {"id": movie_id},
            )
        sessionmaker = make_sessionmaker(old_database)

        report = await import_tmdb(sessionmaker, *SAMPLE_FILES)

        assert (report.imported, report.filled, report.skipped_existing) == (299, 1, 0)
        async with sessionmaker() as session:
            movie = await movie_details(session, movie_id)
        assert movie is not None
        keywords = json.loads(row["keywords"])
        assert [k["id"] for k in movie["keywords"]] == sorted(
            (k["id"] for k in keywords), key=lambda kid: _name(keywords, kid)
        )
        assert movie["budget"] == (int(row["budget"]) or None)
        assert movie["homepage"] == "https://edited.example", "an admin's value stays"
        assert movie["crew"] and movie["production_companies"] and movie["spoken_languages"]

        again = await import_tmdb(sessionmaker, *SAMPLE_FILES)
        assert (again.imported, again.filled, again.skipped_existing) == (0, 0, 300)


def _name(items: list[dict[str, object]], item_id: object) -> str:
    return next(str(item["name"]) for item in items if item["id"] == item_id)
