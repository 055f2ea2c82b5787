"""The TMDB 5000 importer (importer.tmdb.import_tmdb), committing into databases of its own:
the project's sample (300 movies), hand-made files, and the full TMDB 5000 files."""

import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.db import make_engine, make_sessionmaker
from api.movies.models import Genre, Movie, MovieDirector, MovieGenre
from api.outbox import SearchOutbox
from importer.tmdb import ImportReport, import_tmdb
from tests.conftest import migrate, recreate_database
from tests.importer import (
    SAMPLE_FILES,
    TMDB_DIR,
    TMDB_FILES,
    TMDB_MISSING_REASON,
    Expected,
    cast_names,
    database_url,
    director_names,
    drop_database,
    empty_all_tables,
    expected_from_files,
    genre_names,
    read_rows,
    stored_cast_credits,
    table_counts,
    write_rows,
)

SCRATCH_URL = database_url("marquee_test_import_scratch")
TMDB_URL = database_url("marquee_test_import")

needs_tmdb = pytest.mark.skipif(not TMDB_DIR.is_dir(), reason=TMDB_MISSING_REASON)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def scratch_engine() -> AsyncIterator[AsyncEngine]:
    """A migrated database for the small imports; emptied before each test that uses it."""
    await recreate_database(SCRATCH_URL)
    await migrate(SCRATCH_URL)
    engine = make_engine(SCRATCH_URL)
    yield engine
    await engine.dispose()
    await drop_database(SCRATCH_URL)


@pytest.fixture
async def scratch(scratch_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    await empty_all_tables(scratch_engine)
    return make_sessionmaker(scratch_engine)


@pytest.fixture(scope="module")
def sample_expected() -> Expected:
    return expected_from_files(*SAMPLE_FILES)


@pytest.fixture(scope="module")
def tmdb_expected() -> Expected:
    if not TMDB_DIR.is_dir():
        pytest.skip(TMDB_MISSING_REASON)
    return expected_from_files(*TMDB_FILES)


@pytest.fixture(scope="module")
async def tmdb_engine() -> AsyncIterator[AsyncEngine]:
    if not TMDB_DIR.is_dir():
        pytest.skip(TMDB_MISSING_REASON)
    await recreate_database(TMDB_URL)
    await migrate(TMDB_URL)
    engine = make_engine(TMDB_URL)
    yield engine
    await engine.dispose()
    await drop_database(TMDB_URL)


@pytest.fixture(scope="module")
async def tmdb_report(tmdb_engine: AsyncEngine) -> ImportReport:
    """The one full import of TMDB 5000 in this module."""
    return await import_tmdb(make_sessionmaker(tmdb_engine), *TMDB_FILES)


def movie_fieldnames() -> list[str]:
    with_header = read_rows(SAMPLE_FILES[0])
    return list(with_header[0].keys())


# --- the sample catalog -------------------------------------------------------------------


class TestSampleImport:
    async def test_sample_import_reports_every_movie_imported(
        self, scratch: async_sessionmaker[AsyncSession], sample_expected: Expected
    ) -> None:
        report = await import_tmdb(scratch, *SAMPLE_FILES)

        assert report.imported == sample_expected.movies == 300
        assert (report.skipped_existing, report.skipped_invalid, report.problems) == (0, 0, [])
        assert report.people_created == len(sample_expected.people)
        assert report.genres_created == len(sample_expected.genres)

    async def test_sample_import_fills_every_table_as_the_files_say(
        self,
        scratch: async_sessionmaker[AsyncSession],
        scratch_engine: AsyncEngine,
        sample_expected: Expected,
    ) -> None:
        await import_tmdb(scratch, *SAMPLE_FILES)

        assert await table_counts(scratch_engine) == {
            "movie": 300,
            "genre": len(sample_expected.genres),
            "movie_genre": sample_expected.genre_links,
            "person": len(sample_expected.people),
            "cast_credit": sum(sample_expected.cast_credits.values()),
            "movie_director": len(sample_expected.director_links),
            "search_outbox": 300 + len(sample_expected.people),  # one batch: each once
        }
        assert await stored_cast_credits(scratch_engine) == sample_expected.cast_credits

    async def test_sample_import_run_twice_skips_every_movie_the_second_time(
        self, scratch: async_sessionmaker[AsyncSession], scratch_engine: AsyncEngine
    ) -> None:
        await import_tmdb(scratch, *SAMPLE_FILES)
        before = await table_counts(scratch_engine)

        again = await import_tmdb(scratch, *SAMPLE_FILES)

        assert (again.imported, again.skipped_existing, again.skipped_invalid) == (0, 300, 0)
        assert (again.people_created, again.genres_created) == (0, 0)
        assert await table_counts(scratch_engine) == before


# --- hand-made files ----------------------------------------------------------------------


class TestInvalidRows:
    async def test_broken_rows_are_skipped_with_reasons_and_good_rows_imported(
        self,
        scratch: async_sessionmaker[AsyncSession],
        scratch_engine: AsyncEngine,
        tmp_path: Path,
    ) -> None:
        rows = read_rows(SAMPLE_FILES[0])[:6]
        good = [int(rows[0]["id"]), int(rows[1]["id"])]
        rows[1]["overview"] = "An overview\non two lines"  # rows are no longer lines
        rows[2]["id"] = "not-a-number"
        rows[3]["title"] = "  "
        rows[4]["release_date"] = "2015-13-45"
        rows[5]["genres"] = '[{"id": 28, "name": "Action"'
        movies = write_rows(tmp_path / "movies.csv", rows, movie_fieldnames())

        report = await import_tmdb(scratch, movies)

        assert report.imported == 2
        assert report.skipped_invalid == 4
        assert report.skipped_existing == 0
        bad_id, no_title, bad_date, bad_genres = report.problems
        assert bad_id == "line 5 (id 'not-a-number'): 'not-a-number' is not a number"
        assert no_title == f"line 6 (id {rows[3]['id']!r}): missing title"
        assert bad_date == f"line 7 (id {rows[4]['id']!r}): release_date '2015-13-45' is not a date"
        assert bad_genres == f"line 8 (id {rows[5]['id']!r}): genres is not valid JSON"
        async with scratch() as session:
            stored = set((await session.execute(select(Movie.id))).scalars())
            outbox = set((await session.execute(select(SearchOutbox.movie_id))).scalars())
        assert stored == outbox - {None} == set(good)

    async def test_a_movie_with_an_empty_release_date_is_imported_with_null(
        self, scratch: async_sessionmaker[AsyncSession], tmp_path: Path
    ) -> None:
        rows = read_rows(SAMPLE_FILES[0])[:2]
        rows[0]["release_date"] = ""
        movies = write_rows(tmp_path / "movies.csv", rows, movie_fieldnames())

        report = await import_tmdb(scratch, movies)

        assert report.imported == 2
        async with scratch() as session:
            undated = await session.get(Movie, int(rows[0]["id"]))
            dated = await session.get(Movie, int(rows[1]["id"]))
        assert undated is not None and undated.release_date is None
        assert dated is not None
        assert dated.release_date == date.fromisoformat(rows[1]["release_date"])

    async def test_a_movie_id_repeated_in_the_same_batch_is_imported_once(
        self, scratch: async_sessionmaker[AsyncSession], tmp_path: Path
    ) -> None:
        rows = read_rows(SAMPLE_FILES[0])[:3]
        repeated = dict(rows[0], title="Same id again")
        movies = write_rows(tmp_path / "movies.csv", [*rows, repeated], movie_fieldnames())

        report = await import_tmdb(scratch, movies)

        assert report.imported == 3
        assert (report.skipped_invalid, report.skipped_existing) == (1, 0)
        assert report.problems == [f"line 5 (id {rows[0]['id']!r}): repeats the id of line 2"]
        async with scratch() as session:
            first = await session.get(Movie, int(rows[0]["id"]))
            count = (await session.execute(select(func.count()).select_from(Movie))).scalar_one()
        assert first is not None and first.title == rows[0]["title"]
        assert count == 3

    async def test_a_movie_id_repeated_in_a_later_batch_is_skipped_as_existing(
        self,
        scratch: async_sessionmaker[AsyncSession],
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr("importer.tmdb.BATCH_SIZE", 2)
        rows = read_rows(SAMPLE_FILES[0])[:3]
        repeated = dict(rows[0], title="Same id again")
        movies = write_rows(tmp_path / "movies.csv", [*rows, repeated], movie_fieldnames())

        report = await import_tmdb(scratch, movies)

        assert (report.imported, report.skipped_existing, report.skipped_invalid) == (3, 1, 0)
        async with scratch() as session:
            first = await session.get(Movie, int(rows[0]["id"]))
        assert first is not None and first.title == rows[0]["title"]

    @pytest.mark.parametrize("bad_id", ["99999999999", "inf", "-5", "0"])
    async def test_an_out_of_range_movie_id_is_skipped_as_invalid(
        self, scratch: async_sessionmaker[AsyncSession], tmp_path: Path, bad_id: str
    ) -> None:
        rows = read_rows(SAMPLE_FILES[0])[:2]
        rows[1]["id"] = bad_id
        movies = write_rows(tmp_path / "movies.csv", rows, movie_fieldnames())

        report = await import_tmdb(scratch, movies)

        assert (report.imported, report.skipped_invalid) == (1, 1)
        assert bad_id in report.problems[0]


class TestFileFormats:
    async def test_plain_csv_files_import_like_the_gzipped_ones(
        self,
        scratch: async_sessionmaker[AsyncSession],
        scratch_engine: AsyncEngine,
        sample_expected: Expected,
        tmp_path: Path,
    ) -> None:
        plain = []
        for source in SAMPLE_FILES:
            rows = read_rows(source)
            target = tmp_path / source.name.removesuffix(".gz")
            plain.append(write_rows(target, rows, list(rows[0].keys())))
            assert target.read_bytes()[:2] != b"\x1f\x8b"

        report = await import_tmdb(scratch, *plain)

        assert (report.imported, report.skipped_invalid) == (300, 0)
        counts = await table_counts(scratch_engine)
        assert counts["cast_credit"] == sum(sample_expected.cast_credits.values())
        assert counts["person"] == len(sample_expected.people)
        assert await stored_cast_credits(scratch_engine) == sample_expected.cast_credits

    async def test_credits_and_posters_in_another_order_still_pair_with_their_movies(
        self,
        scratch: async_sessionmaker[AsyncSession],
        scratch_engine: AsyncEngine,
        sample_expected: Expected,
        tmp_path: Path,
    ) -> None:
        movies, credits, posters = SAMPLE_FILES
        shuffled = []
        for source, name in ((credits, "credits.csv"), (posters, "posters.csv")):
            rows = read_rows(source)
            random.Random(5000).shuffle(rows)
            assert [r["movie_id"] for r in rows] != [r["id"] for r in read_rows(movies)]
            shuffled.append(write_rows(tmp_path / name, rows, list(rows[0].keys())))

        report = await import_tmdb(scratch, movies, *shuffled)

        assert (report.imported, report.skipped_invalid) == (300, 0)
        assert await stored_cast_credits(scratch_engine) == sample_expected.cast_credits
        async with scratch() as session:
            stored = await session.execute(select(Movie.id, Movie.poster_path))
            posters_stored = dict(stored.all())
        assert posters_stored == sample_expected.posters

    async def test_movies_without_credits_or_posters_files_import_without_cast(
        self, scratch: async_sessionmaker[AsyncSession], scratch_engine: AsyncEngine
    ) -> None:
        report = await import_tmdb(scratch, SAMPLE_FILES[0])

        assert (report.imported, report.people_created) == (300, 0)
        counts = await table_counts(scratch_engine)
        assert (counts["movie"], counts["cast_credit"], counts["movie_director"]) == (300, 0, 0)
        async with scratch() as session:
            with_poster = (
                await session.execute(
                    select(func.count()).select_from(Movie).where(Movie.poster_path.is_not(None))
                )
            ).scalar_one()
        assert with_poster == 0

    async def test_a_credits_file_missing_a_movie_leaves_only_that_movie_without_cast(
        self,
        scratch: async_sessionmaker[AsyncSession],
        scratch_engine: AsyncEngine,
        sample_expected: Expected,
        tmp_path: Path,
    ) -> None:
        movies, credits, posters = SAMPLE_FILES
        rows = read_rows(credits)
        dropped = int(rows[0]["movie_id"])
        partial = write_rows(tmp_path / "credits.csv", rows[1:], list(rows[0].keys()))

        report = await import_tmdb(scratch, movies, partial, posters)

        assert report.imported == 300
        assert await cast_names(scratch_engine, dropped) == []
        expected = Counter(sample_expected.cast_credits)
        for key in [k for k in expected if k[0] == dropped]:
            del expected[key]
        assert await stored_cast_credits(scratch_engine) == expected


# --- the full TMDB 5000 files -------------------------------------------------------------


@needs_tmdb
class TestTmdb5000Import:
    async def test_report_counts_every_movie_person_and_genre(
        self, tmdb_report: ImportReport, tmdb_expected: Expected
    ) -> None:
        assert tmdb_report.imported == 4_803
        assert (tmdb_report.skipped_existing, tmdb_report.skipped_invalid) == (0, 0)
        assert tmdb_report.problems == []
        assert tmdb_report.genres_created == 20
        assert tmdb_report.people_created == len(tmdb_expected.people)

    async def test_tables_hold_the_counts_the_files_give(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        counts = await table_counts(tmdb_engine)

        assert counts["movie"] == 4_803
        assert counts["genre"] == 20
        assert counts["cast_credit"] == 106_257 == sum(tmdb_expected.cast_credits.values())
        assert counts["person"] == len(tmdb_expected.people)
        assert counts["movie_genre"] == tmdb_expected.genre_links
        assert counts["movie_director"] == len(tmdb_expected.director_links)

    async def test_every_cast_credit_matches_the_credits_file(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        stored = await stored_cast_credits(tmdb_engine)
        assert len({person for _, person, _ in stored}) == len(tmdb_expected.actors) == 54_588
        assert stored == tmdb_expected.cast_credits

    async def test_avatar_cast_is_in_billing_order_and_directed_by_james_cameron(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        cast = await cast_names(tmdb_engine, 19995)

        assert cast[:4] == ["Sam Worthington", "Zoe Saldana", "Sigourney Weaver", "Stephen Lang"]
        assert cast == tmdb_expected.cast_by_movie[19995]
        assert await director_names(tmdb_engine, 19995) == ["James Cameron"]

    async def test_the_dark_knight_rises_is_directed_by_christopher_nolan(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        assert await director_names(tmdb_engine, 49026) == ["Christopher Nolan"]
        cast = await cast_names(tmdb_engine, 49026)
        assert cast[0] == "Christian Bale"
        assert cast == tmdb_expected.cast_by_movie[49026]

    async def test_directors_of_every_movie_match_the_crew(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        async with tmdb_engine.connect() as conn:
            stored = await conn.execute(select(MovieDirector.movie_id, MovieDirector.person_id))
            rows = stored.all()
        assert {(m, p) for m, p in rows} == tmdb_expected.director_links

    async def test_poster_paths_are_joined_by_movie_id(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        async with tmdb_engine.connect() as conn:
            rows = (await conn.execute(select(Movie.id, Movie.poster_path))).all()
        stored = {movie_id: path for movie_id, path in rows if path is not None}

        assert len(stored) == 4_773
        assert stored == tmdb_expected.posters
        assert stored[19995] == "/gKY6q7SjCkAU6FqvqWybDYgUKIF.jpg"

    async def test_genres_are_linked_to_their_movies(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        assert await genre_names(tmdb_engine, 19995) == {
            "Action",
            "Adventure",
            "Fantasy",
            "Science Fiction",
        }
        assert await genre_names(tmdb_engine, 49026) == tmdb_expected.genres_by_movie[49026]
        async with tmdb_engine.connect() as conn:
            per_genre = dict(
                (
                    await conn.execute(
                        select(Genre.name, func.count())
                        .join(MovieGenre, MovieGenre.genre_id == Genre.id)
                        .group_by(Genre.name)
                    )
                ).all()
            )
        assert set(per_genre) == tmdb_expected.genres
        assert (per_genre["Drama"], per_genre["Comedy"], per_genre["Action"]) == (2297, 1722, 1154)

    async def test_the_movie_with_an_empty_release_date_is_stored_with_null(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine
    ) -> None:
        async with make_sessionmaker(tmdb_engine)() as session:
            movie = await session.get(Movie, 380097)
            undated = (
                await session.execute(select(Movie.id).where(Movie.release_date.is_(None)))
            ).scalars()
            undated_ids = list(undated)
        assert movie is not None and movie.title == "America Is Still the Place"
        assert movie.release_date is None
        assert undated_ids == [380097]

    async def test_every_imported_movie_and_person_has_a_pending_outbox_row(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        entries = select(SearchOutbox.movie_id, SearchOutbox.person_id, SearchOutbox.processed_at)
        async with tmdb_engine.connect() as conn:
            rows = (await conn.execute(entries)).all()
            movie_ids = set((await conn.execute(select(Movie.id))).scalars())
        movies = [movie_id for movie_id, _, _ in rows if movie_id is not None]
        assert len(movies) == 4_803 and set(movies) == movie_ids
        # A person credited in several import batches is recorded once per batch.
        assert {person_id for _, person_id, _ in rows if person_id} == tmdb_expected.people
        assert all(processed is None for _, _, processed in rows)

    async def test_a_second_run_imports_nothing_and_changes_no_table(
        self, tmdb_report: ImportReport, tmdb_engine: AsyncEngine, tmdb_expected: Expected
    ) -> None:
        before = await table_counts(tmdb_engine)

        again = await import_tmdb(make_sessionmaker(tmdb_engine), *TMDB_FILES)

        assert (again.imported, again.skipped_existing, again.skipped_invalid) == (0, 4_803, 0)
        assert (again.people_created, again.genres_created) == (0, 0)
        assert await table_counts(tmdb_engine) == before
        assert before["person"] == len(tmdb_expected.people)
        assert await stored_cast_credits(tmdb_engine) == tmdb_expected.cast_credits
