"""Catalog reads: one movie, the filtered and sorted list, the curated lists and genres."""

from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlmodel import SQLModel

from api.movies.models import (
    Company,
    CrewCredit,
    Genre,
    Keyword,
    Movie,
    MovieCompany,
    MovieCountry,
    MovieDirector,
    MovieKeyword,
    MovieLanguage,
)
from api.people.models import Person
from api.settings import Settings
from tests.api.conftest import Catalog, days, ids, unique
from tests.conftest import Account

LIST_ITEM_FIELDS = {
    "id", "title", "original_title", "overview", "tagline", "release_date", "original_language",
    "runtime", "status", "genres", "poster_path", "backdrop_path", "poster_url", "popularity",
    "vote_average", "vote_count", "created_at", "updated_at", "budget", "revenue", "homepage",
    "keywords", "production_companies", "production_countries", "spoken_languages",
}  # fmt: skip
# What a list item shows of the movie's TMDB record beside its genres (never its crew).
RECORD_LISTS = ("keywords", "production_companies", "production_countries", "spoken_languages")


async def get_list(client: AsyncClient, path: str = "/movies", **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def in_genre(client: AsyncClient, genre: Genre, **params: Any) -> list[int]:
    """Ids of the movies of this (test-owned) genre, as /movies lists them."""
    params.setdefault("per_page", 100)
    return ids(await get_list(client, genre=str(genre.id), **params))


async def add(catalog: Catalog, *rows: SQLModel) -> None:
    """Rows beside the movies the catalog built (crew, tags), written before anything reads."""
    catalog.db.add_all(rows)
    await catalog.db.commit()


async def named(catalog: Catalog, model: type[Keyword] | type[Company], name: str) -> Any:
    row = model.model_validate({"name": name})
    catalog.db.add(row)
    await catalog.db.flush()
    return row


def crew(movie: Movie, person: Person, job: str = "Writer") -> CrewCredit:
    return CrewCredit.model_validate(
        {"movie_id": movie.id, "person_id": person.id, "department": "Writing", "job": job}
    )


def directs(movie: Movie, person: Person) -> MovieDirector:
    return MovieDirector.model_validate({"movie_id": movie.id, "person_id": person.id})


def tagged(movie: Movie, keyword: Keyword) -> MovieKeyword:
    return MovieKeyword.model_validate({"movie_id": movie.id, "keyword_id": keyword.id})


def made_by(movie: Movie, company: Company) -> MovieCompany:
    return MovieCompany.model_validate({"movie_id": movie.id, "company_id": company.id})


async def with_record(
    catalog: Catalog, star: Person, **fields: Any
) -> tuple[Movie, dict[str, Any]]:
    """A movie starring `star` with two keywords, companies, countries and languages, each
    pair stored against its order (the keywords' is their names', the others' their
    positions), and a crew credit; with the lists its answers should show."""
    movie = await catalog.movie(cast=[star], **fields)
    later, sooner = [await named(catalog, Keyword, unique(name)) for name in ("b", "a")]
    second, first = [await named(catalog, Company, unique("co")) for _ in range(2)]
    link = {"movie_id": movie.id}
    await add(
        catalog,
        tagged(movie, later),
        tagged(movie, sooner),
        MovieCompany.model_validate({**link, "company_id": second.id, "position": 1}),
        MovieCompany.model_validate({**link, "company_id": first.id, "position": 0}),
        MovieCountry.model_validate({**link, "iso_3166_1": "US", "name": "USA", "position": 1}),
        MovieCountry.model_validate({**link, "iso_3166_1": "GB", "name": "UK", "position": 0}),
        MovieLanguage.model_validate({**link, "iso_639_1": "fr", "name": "French", "position": 1}),
        MovieLanguage.model_validate({**link, "iso_639_1": "en", "name": "English", "position": 0}),
        crew(movie, star),
    )
    return movie, {
        "keywords": [{"id": k.id, "name": k.name} for k in (sooner, later)],
        "production_companies": [{"id": c.id, "name": c.name} for c in (first, second)],
        "production_countries": [
            {"iso_3166_1": "GB", "name": "UK"}, {"iso_3166_1": "US", "name": "USA"}
        ],
        "spoken_languages": [
            {"iso_639_1": "en", "name": "English"}, {"iso_639_1": "fr", "name": "French"}
        ],
    }  # fmt: skip


def record(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in RECORD_LISTS}


def item_of(body: dict[str, Any], movie: Movie) -> dict[str, Any]:
    return next(item for item in body["results"] if item["id"] == movie.id)


def own(body: dict[str, Any], movies: list[Movie]) -> list[int]:
    """The ids in a page that belong to these movies, in page order."""
    wanted = {m.id for m in movies}
    return [i for i in ids(body) if i in wanted]


class TestGetMovie:
    async def test_returns_the_movie_with_cast_in_billing_order(
        self, client: AsyncClient, catalog: Catalog, settings: Settings
    ) -> None:
        genre = await catalog.genre()
        first, second = await catalog.person(profile_path="/p.jpg"), await catalog.person()
        movie = await catalog.movie(
            "Read Me",
            genres=[genre],
            cast=[first, second],
            release_date=date(1999, 3, 31),
            original_language="en",
            runtime=136,
            poster_path="/read.jpg",
            popularity=42.5,
            vote_average=8.25,
            vote_count=1234,
        )
        response = await client.get(f"/movies/{movie.id}")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == movie.id
        assert body["title"] == body["original_title"] == "Read Me"
        assert body["release_date"] == "1999-03-31"
        assert body["runtime"] == 136
        assert body["genres"] == [{"id": genre.id, "name": genre.name}]
        assert [c["id"] for c in body["cast"]] == [first.id, second.id]
        assert body["cast"][0]["profile_path"] == "/p.jpg"
        assert [c["order"] for c in body["cast"]] == [0, 1]
        assert body["directors"] == []
        assert body["poster_url"] == settings.IMAGE_BASE_URL.rstrip("/") + "/read.jpg"
        assert body["popularity"] == 42.5
        assert body["vote_average"] == 8.25
        assert body["vote_count"] == 1234
        assert body["created_at"].endswith(("Z", "+00:00"))

    async def test_unknown_movie_returns_404_envelope(self, client: AsyncClient) -> None:
        response = await client.get("/movies/2000000000")
        assert response.status_code == 404
        body = response.json()
        assert set(body) == {"detail", "code"}
        assert body["code"] == "movie_not_found"

    @pytest.mark.parametrize(
        "path",
        ["/movies/abc", "/movies/0", "/movies/-1", "/movies/99999999999999999999", "/movies/1.5"],
    )
    async def test_bad_ids_are_404_or_422_never_500(self, client: AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code in (404, 422), response.text
        assert {"detail", "code"} <= set(response.json())


class TestListFilters:
    async def test_list_items_carry_genres_and_no_credits(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        movie = await catalog.movie(genres=[genre], cast=[await catalog.person()])
        body = await get_list(client, genre=str(genre.id))
        assert ids(body) == [movie.id]
        item = body["results"][0]
        assert set(item) >= LIST_ITEM_FIELDS
        assert not {"cast", "directors", "crew"} & set(item)
        assert item["genres"] == [{"id": genre.id, "name": genre.name}]

    async def test_default_order_is_popularity_desc(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        low = await catalog.movie(genres=[genre], popularity=1.0)
        high = await catalog.movie(genres=[genre], popularity=300.0)
        mid = await catalog.movie(genres=[genre], popularity=20.0)
        assert await in_genre(client, genre) == [high.id, mid.id, low.id]

    async def test_genre_by_name_is_case_insensitive(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre(unique("Western"))
        movie = await catalog.movie(genres=[genre])
        await catalog.movie()
        for name in (genre.name, genre.name.upper(), genre.name.lower()):
            assert ids(await get_list(client, genre=name)) == [movie.id]

    async def test_genre_all_and_any(self, client: AsyncClient, catalog: Catalog) -> None:
        a, b = await catalog.genre(), await catalog.genre()
        only_a = await catalog.movie(genres=[a], popularity=3)
        both = await catalog.movie(genres=[a, b], popularity=2)
        only_b = await catalog.movie(genres=[b], popularity=1)
        assert ids(await get_list(client, genre=f"{a.id},{b.id}")) == [both.id]
        assert ids(await get_list(client, genre=f"{a.name},{b.name}")) == [both.id]
        assert ids(await get_list(client, genre=f"{a.id}|{b.id}")) == [
            only_a.id,
            both.id,
            only_b.id,
        ]
        assert ids(await get_list(client, genre=f"{a.name}|{b.id}")) == [
            only_a.id,
            both.id,
            only_b.id,
        ]

    async def test_unknown_genre_answers_an_empty_page(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        await catalog.movie(genres=[genre])
        for value in (unique("nosuch"), f"{genre.name},{unique('nosuch')}", "2000000000"):
            body = await get_list(client, genre=value)
            assert body["results"] == [] and body["total_results"] == 0 and body["total_pages"] == 0

    async def test_unknown_genre_among_any_of_answers_the_known_ones(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        movie = await catalog.movie(genres=[genre])
        assert ids(await get_list(client, genre=f"{genre.name}|{unique('nosuch')}")) == [movie.id]
        assert ids(await get_list(client, genre=f"{unique('nosuch')}|{unique('nosuch')}")) == []

    async def test_language_one_and_any(self, client: AsyncClient, catalog: Catalog) -> None:
        genre = await catalog.genre()
        en = await catalog.movie(genres=[genre], original_language="en", popularity=3)
        fr = await catalog.movie(genres=[genre], original_language="fr", popularity=2)
        await catalog.movie(genres=[genre], original_language="ja", popularity=1)
        assert await in_genre(client, genre, language="fr") == [fr.id]
        assert await in_genre(client, genre, language="FR") == [fr.id]
        assert await in_genre(client, genre, language="en|fr") == [en.id, fr.id]

    async def test_year(self, client: AsyncClient, catalog: Catalog) -> None:
        genre = await catalog.genre()
        first = await catalog.movie(genres=[genre], release_date=date(1999, 1, 1), popularity=2)
        last = await catalog.movie(genres=[genre], release_date=date(1999, 12, 31), popularity=1)
        await catalog.movie(genres=[genre], release_date=date(1998, 12, 31))
        await catalog.movie(genres=[genre], release_date=date(2000, 1, 1))
        await catalog.movie(genres=[genre], release_date=None)
        assert await in_genre(client, genre, year=1999) == [first.id, last.id]

    async def test_release_date_bounds_are_inclusive(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        early = await catalog.movie(genres=[genre], release_date=date(2010, 5, 1), popularity=3)
        mid = await catalog.movie(genres=[genre], release_date=date(2011, 1, 1), popularity=2)
        late = await catalog.movie(genres=[genre], release_date=date(2012, 5, 1), popularity=1)
        await catalog.movie(genres=[genre], release_date=None)
        gte = {"release_date.gte": "2011-01-01"}
        lte = {"release_date.lte": "2011-01-01"}
        assert await in_genre(client, genre, **gte) == [mid.id, late.id]
        assert await in_genre(client, genre, **lte) == [early.id, mid.id]
        both = {"release_date.gte": "2010-05-02", "release_date.lte": "2012-05-01"}
        assert await in_genre(client, genre, **both) == [mid.id, late.id]

    async def test_vote_average_and_vote_count_minimums(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        good_many = await catalog.movie(
            genres=[genre], vote_average=7.5, vote_count=500, popularity=3
        )
        good_few = await catalog.movie(
            genres=[genre], vote_average=8.0, vote_count=10, popularity=2
        )
        poor_many = await catalog.movie(
            genres=[genre], vote_average=7.4, vote_count=900, popularity=1
        )
        assert await in_genre(client, genre, **{"vote_average.gte": 7.5}) == [
            good_many.id,
            good_few.id,
        ]
        assert await in_genre(client, genre, **{"vote_count.gte": 500}) == [
            good_many.id,
            poor_many.id,
        ]
        assert await in_genre(
            client, genre, **{"vote_average.gte": 7.5, "vote_count.gte": 500}
        ) == [good_many.id]

    async def test_cast_all_and_any(self, client: AsyncClient, catalog: Catalog) -> None:
        a, b = await catalog.person(), await catalog.person()
        only_a = await catalog.movie(cast=[a], popularity=3)
        both = await catalog.movie(cast=[b, a], popularity=2)
        only_b = await catalog.movie(cast=[b], popularity=1)
        assert ids(await get_list(client, cast=str(a.id))) == [only_a.id, both.id]
        assert ids(await get_list(client, cast=f"{a.id},{b.id}")) == [both.id]
        assert ids(await get_list(client, cast=f"{a.id}|{b.id}")) == [only_a.id, both.id, only_b.id]

    async def test_filters_combine(self, client: AsyncClient, catalog: Catalog) -> None:
        genre, actor = await catalog.genre(), await catalog.person()
        fields: dict[str, Any] = {
            "original_language": "de",
            "release_date": date(2005, 6, 1),
            "vote_average": 7.0,
            "vote_count": 100,
        }
        match = await catalog.movie(genres=[genre], cast=[actor], **fields)
        changes: list[dict[str, Any]] = [
            {"original_language": "it"},
            {"release_date": date(2006, 6, 1)},
            {"vote_average": 6.9},
            {"vote_count": 99},
        ]
        for change in changes:
            await catalog.movie(genres=[genre], cast=[actor], **{**fields, **change})
        await catalog.movie(genres=[genre], **fields)  # without the actor
        await catalog.movie(cast=[actor], **fields)  # without the genre
        params: dict[str, Any] = {
            "genre": genre.name, "language": "de", "year": 2005, "vote_average.gte": 7,
            "vote_count.gte": 100, "cast": str(actor.id),
            "release_date.gte": "2005-01-01", "release_date.lte": "2005-12-31",
        }  # fmt: skip
        body = await get_list(client, **params)
        assert ids(body) == [match.id]
        assert body["total_results"] == 1

    async def test_crew_is_any_crew_job_or_directing_never_acting(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        a, b = await catalog.person(), await catalog.person()
        writes = await catalog.movie(popularity=4)
        directs_a = await catalog.movie(popularity=3)  # a director without a crew credit
        with_b = await catalog.movie(popularity=2)
        acts = await catalog.movie(cast=[a], popularity=1)
        await add(catalog, crew(writes, a), directs(directs_a, a), crew(directs_a, b, "Editor"))
        await add(catalog, crew(with_b, b, "Original Music Composer"))
        assert ids(await get_list(client, crew=str(a.id))) == [writes.id, directs_a.id]
        assert ids(await get_list(client, crew=f"{a.id},{b.id}")) == [directs_a.id]
        assert ids(await get_list(client, crew=f"{a.id}|{b.id}")) == [
            writes.id,
            directs_a.id,
            with_b.id,
        ]
        assert acts.id not in ids(await get_list(client, crew=str(a.id)))

    async def test_two_crew_jobs_on_one_movie_count_it_once(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        movie = await catalog.movie()
        await add(catalog, crew(movie, person), crew(movie, person, "Producer"))
        await add(catalog, directs(movie, person))
        body = await get_list(client, crew=str(person.id))
        assert ids(body) == [movie.id] and body["total_results"] == 1
        body = await get_list(client, people=str(person.id))
        assert ids(body) == [movie.id] and body["total_results"] == 1

    async def test_people_is_cast_or_crew(self, client: AsyncClient, catalog: Catalog) -> None:
        a, b = await catalog.person(), await catalog.person()
        acts = await catalog.movie(cast=[a], popularity=4)
        writes = await catalog.movie(popularity=3)
        directs_a = await catalog.movie(cast=[b], popularity=2)
        only_b = await catalog.movie(popularity=1)
        await add(catalog, crew(writes, a), directs(directs_a, a), crew(only_b, b))
        assert ids(await get_list(client, people=str(a.id))) == [acts.id, writes.id, directs_a.id]
        assert ids(await get_list(client, people=f"{a.id},{b.id}")) == [directs_a.id]
        assert ids(await get_list(client, people=f"{b.id}|{a.id}")) == [
            acts.id,
            writes.id,
            directs_a.id,
            only_b.id,
        ]

    async def test_keyword_by_name_any_case_or_id(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        travel = await named(catalog, Keyword, unique("Time Travel"))
        heist = await named(catalog, Keyword, unique("heist"))
        only_travel = await catalog.movie(popularity=3)
        both = await catalog.movie(popularity=2)
        only_heist = await catalog.movie(popularity=1)
        await add(catalog, tagged(only_travel, travel), tagged(both, travel), tagged(both, heist))
        await add(catalog, tagged(only_heist, heist))
        for value in (travel.name, travel.name.upper(), travel.name.lower(), str(travel.id)):
            assert ids(await get_list(client, keyword=value)) == [only_travel.id, both.id]
        assert ids(await get_list(client, keyword=f"{travel.name},{heist.id}")) == [both.id]
        assert ids(await get_list(client, keyword=f"{travel.id}|{heist.name.upper()}")) == [
            only_travel.id,
            both.id,
            only_heist.id,
        ]

    async def test_unknown_keyword_matches_nothing_as_an_unknown_genre_does(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        keyword = await named(catalog, Keyword, unique("heist"))
        movie = await catalog.movie()
        await add(catalog, tagged(movie, keyword))
        for value in (unique("nosuch"), f"{keyword.name},{unique('nosuch')}", "2000000000"):
            body = await get_list(client, keyword=value)
            assert body["results"] == [] and body["total_results"] == 0
        assert ids(await get_list(client, keyword=f"{unique('nosuch')}|{keyword.name}")) == [
            movie.id
        ]

    async def test_company_name_stands_for_every_company_so_named(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        name = unique("Heyday Films")
        first, namesake = await named(catalog, Company, name), await named(catalog, Company, name)
        other = await named(catalog, Company, unique("Warner"))
        by_first = await catalog.movie(popularity=3)
        by_namesake = await catalog.movie(popularity=2)
        by_other = await catalog.movie(popularity=1)
        await add(catalog, made_by(by_first, first), made_by(by_namesake, namesake))
        await add(catalog, made_by(by_namesake, other), made_by(by_other, other))
        assert ids(await get_list(client, company=name.lower())) == [by_first.id, by_namesake.id]
        assert ids(await get_list(client, company=str(first.id))) == [by_first.id]
        assert ids(await get_list(client, company=f"{name},{other.name}")) == [by_namesake.id]
        assert ids(await get_list(client, company=f"{name}|{other.id}")) == [
            by_first.id,
            by_namesake.id,
            by_other.id,
        ]
        assert ids(await get_list(client, company=f"{name},{unique('nosuch')}")) == []

    async def test_runtime_bounds_are_inclusive_and_skip_unknown_runtimes(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        short = await catalog.movie(genres=[genre], runtime=90, popularity=3)
        mid = await catalog.movie(genres=[genre], runtime=120, popularity=2)
        long = await catalog.movie(genres=[genre], runtime=150, popularity=1)
        await catalog.movie(genres=[genre], runtime=None)
        assert await in_genre(client, genre, **{"runtime.gte": 120}) == [mid.id, long.id]
        assert await in_genre(client, genre, **{"runtime.lte": 120}) == [short.id, mid.id]
        both = {"runtime.gte": 91, "runtime.lte": 150}
        assert await in_genre(client, genre, **both) == [mid.id, long.id]
        assert await in_genre(client, genre, **{"runtime.gte": 0}) == [short.id, mid.id, long.id]

    async def test_runtime_minimum_above_the_maximum_answers_an_empty_page(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        await catalog.movie(genres=[genre], runtime=120)
        assert await in_genre(client, genre, **{"runtime.gte": 121, "runtime.lte": 119}) == []

    async def test_new_filters_combine(self, client: AsyncClient, catalog: Catalog) -> None:
        writer, keyword = await catalog.person(), await named(catalog, Keyword, unique("noir"))
        company = await named(catalog, Company, unique("Studio"))
        match = await catalog.movie(runtime=100)
        short = await catalog.movie(runtime=80)
        untagged = await catalog.movie(runtime=100)
        for movie in (match, short, untagged):
            await add(catalog, crew(movie, writer), made_by(movie, company))
        await add(catalog, tagged(match, keyword), tagged(short, keyword))
        params: dict[str, Any] = {
            "crew": str(writer.id), "people": str(writer.id), "keyword": keyword.name,
            "company": company.name, "runtime.gte": 90, "runtime.lte": 100,
        }  # fmt: skip
        body = await get_list(client, **params)
        assert ids(body) == [match.id]
        assert body["total_results"] == 1


class TestSorting:
    @pytest.mark.parametrize(
        ("sort_by", "field", "values"),
        [
            ("popularity.desc", "popularity", [5.0, 9.0, 1.0]),
            ("popularity.asc", "popularity", [5.0, 9.0, 1.0]),
            ("vote_average.desc", "vote_average", [5.5, 9.5, 1.5]),
            ("vote_average.asc", "vote_average", [5.5, 9.5, 1.5]),
            ("rating.desc", "vote_average", [5.5, 9.5, 1.5]),
            ("rating.asc", "vote_average", [5.5, 9.5, 1.5]),
            ("vote_count.desc", "vote_count", [50, 90, 10]),
            ("vote_count.asc", "vote_count", [50, 90, 10]),
            (
                "release_date.desc",
                "release_date",
                [date(2001, 1, 1), date(2009, 1, 1), date(1990, 1, 1)],
            ),
            (
                "release_date.asc",
                "release_date",
                [date(2001, 1, 1), date(2009, 1, 1), date(1990, 1, 1)],
            ),
            ("revenue.desc", "revenue", [5_000_000, 9_000_000_000, 1]),
            ("revenue.asc", "revenue", [5_000_000, 9_000_000_000, 1]),
            ("runtime.desc", "runtime", [95, 1500, 0]),
            ("runtime.asc", "runtime", [95, 1500, 0]),
        ],
    )
    async def test_sort_by(
        self, client: AsyncClient, catalog: Catalog, sort_by: str, field: str, values: list[Any]
    ) -> None:
        genre = await catalog.genre()
        movies = [await catalog.movie(genres=[genre], **{field: value}) for value in values]
        descending = sort_by.endswith(".desc")
        expected = [
            m.id for m in sorted(movies, key=lambda m: getattr(m, field), reverse=descending)
        ]
        assert await in_genre(client, genre, sort_by=sort_by) == expected

    async def test_rating_alias_equals_vote_average(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        for average in (3.0, 8.0, 8.0, 6.5):
            await catalog.movie(genres=[genre], vote_average=average)
        for direction in ("desc", "asc"):
            alias = await in_genre(client, genre, sort_by=f"rating.{direction}")
            assert alias == await in_genre(client, genre, sort_by=f"vote_average.{direction}")

    @pytest.mark.parametrize("sort_by", ["title.asc", "title.desc"])
    async def test_title_sort_ignores_case_and_accents(
        self, client: AsyncClient, catalog: Catalog, sort_by: str
    ) -> None:
        genre = await catalog.genre()
        titles = ["beta", "Alpha", "Éclair", "delta", "Charlie"]
        by_title = {title: await catalog.movie(title, genres=[genre]) for title in titles}
        order = ["Alpha", "beta", "Charlie", "delta", "Éclair"]
        if sort_by.endswith("desc"):
            order.reverse()
        assert await in_genre(client, genre, sort_by=sort_by) == [by_title[t].id for t in order]

    @pytest.mark.parametrize("sort_by", ["release_date.asc", "release_date.desc"])
    async def test_movies_without_a_date_come_last(
        self, client: AsyncClient, catalog: Catalog, sort_by: str
    ) -> None:
        genre = await catalog.genre()
        undated = await catalog.movie(genres=[genre], release_date=None)
        old = await catalog.movie(genres=[genre], release_date=date(1950, 1, 1))
        new = await catalog.movie(genres=[genre], release_date=date(2020, 1, 1))
        dated = [old.id, new.id] if sort_by.endswith("asc") else [new.id, old.id]
        assert await in_genre(client, genre, sort_by=sort_by) == [*dated, undated.id]

    @pytest.mark.parametrize(
        ("sort_by", "field"),
        [
            ("revenue.asc", "revenue"),
            ("revenue.desc", "revenue"),
            ("runtime.asc", "runtime"),
            ("runtime.desc", "runtime"),
        ],
    )
    async def test_movies_without_revenue_or_runtime_come_last(
        self, client: AsyncClient, catalog: Catalog, sort_by: str, field: str
    ) -> None:
        genre = await catalog.genre()
        unknown = [await catalog.movie(genres=[genre], **{field: None}) for _ in range(2)]
        low = await catalog.movie(genres=[genre], **{field: 1})
        high = await catalog.movie(genres=[genre], **{field: 1000})
        descending = sort_by.endswith("desc")
        known = [high.id, low.id] if descending else [low.id, high.id]
        missing = sorted((m.id for m in unknown), reverse=descending)  # type: ignore[type-var]
        assert await in_genre(client, genre, sort_by=sort_by) == [*known, *missing]

    @pytest.mark.parametrize(
        ("sort_by", "field", "value"),
        [
            (None, "popularity", 7.0),
            ("popularity.asc", "popularity", 7.0),
            ("vote_average.desc", "vote_average", 6.0),
            ("rating.asc", "vote_average", 6.0),
            ("vote_count.desc", "vote_count", 40),
            ("vote_count.asc", "vote_count", 40),
            ("release_date.desc", "release_date", date(2015, 5, 5)),
            ("release_date.asc", "release_date", date(2015, 5, 5)),
            ("title.asc", "title", "Same Title"),
            ("title.desc", "title", "same title"),
            ("revenue.desc", "revenue", 1_000_000),
            ("revenue.asc", "revenue", None),
            ("runtime.desc", "runtime", None),
            ("runtime.asc", "runtime", 100),
        ],
    )
    async def test_paging_through_ties_never_overlaps_or_skips(
        self, client: AsyncClient, catalog: Catalog, sort_by: str | None, field: str, value: Any
    ) -> None:
        genre = await catalog.genre()
        movies = [await catalog.movie(genres=[genre], **{field: value}) for _ in range(7)]
        params: dict[str, Any] = {"genre": str(genre.id), "per_page": 2}
        if sort_by:
            params["sort_by"] = sort_by
        seen: list[int] = []
        for page in range(1, 5):
            body = await get_list(client, page=page, **params)
            assert body["total_results"] == 7
            assert body["total_pages"] == 4
            seen += ids(body)
        assert len(seen) == len(set(seen)) == 7
        descending = (sort_by or "popularity.desc").endswith("desc")
        assert seen == sorted((m.id for m in movies), reverse=descending)  # type: ignore[type-var]

    async def test_same_page_twice_answers_the_same(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        for _ in range(5):
            await catalog.movie(genres=[genre], popularity=1.0)
        params: dict[str, Any] = {"genre": str(genre.id), "per_page": 2, "page": 2}
        first = ids(await get_list(client, **params))
        assert len(first) == 2  # a page of ties, not an empty one
        assert ids(await get_list(client, **params)) == first


class TestBadListInput:
    @pytest.mark.parametrize(
        "params",
        [
            {"year": "abc"},
            {"year": "99999"},
            {"language": "english"},
            {"language": "e1"},
            {"language": "en,fr"},
            {"cast": "abc"},
            {"cast": "0"},
            {"cast": "1,abc"},
            {"cast": "99999999999999999999999"},
            {"cast": "²"},
            {"cast": "1|²"},
            {"genre": "a,b|c"},
            {"genre": ","},
            {"genre": "|".join(str(i) for i in range(1, 30))},
            {"per_page": 101},
            {"per_page": 0},
            {"page": 0},
            {"page": -1},
            {"page": "x"},
            {"sort_by": "foo"},
            {"sort_by": "title"},
            {"sort_by": "id.desc"},
            {"release_date.gte": "2020-13-01"},
            {"release_date.lte": "yesterday"},
            {"vote_average.gte": 11},
            {"vote_average.gte": "abc"},
            {"vote_average.gte": "nan"},
            {"vote_average.gte": "inf"},
            {"vote_count.gte": -1},
            {"vote_count.gte": "1.5"},
            {"crew": "abc"},
            {"crew": "0"},
            {"crew": "1,abc"},
            {"crew": "1|²"},
            {"crew": "1,2|3"},
            {"crew": "2147483648"},
            {"crew": "x" * 1001},
            {"people": "abc"},
            {"people": "-5"},
            {"people": "1|99999999999999999999999"},
            {"people": "|".join(str(i) for i in range(1, 30))},
            {"keyword": "a,b|c"},
            {"keyword": ","},
            {"keyword": "|".join(f"k{i}" for i in range(30))},
            {"keyword": "x" * 2001},
            {"company": "a|b,c"},
            {"company": " | "},
            {"company": ",".join(f"c{i}" for i in range(30))},
            {"company": "x" * 2001},
            {"runtime.gte": -1},
            {"runtime.lte": 1501},
            {"runtime.gte": "1.5"},
            {"runtime.lte": "abc"},
            {"runtime.gte": "99999999999999999999999"},
            {"sort_by": "revenue"},
            {"sort_by": "runtime.up"},
            {"sort_by": "budget.desc"},
        ],
        ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())[:40],
    )
    async def test_bad_values_return_422_envelope(
        self, client: AsyncClient, params: dict[str, Any]
    ) -> None:
        response = await client.get("/movies", params=params)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "validation_error"
        assert isinstance(body["detail"], str)
        assert body["errors"] and all("loc" in e for e in body["errors"])

    @pytest.mark.parametrize(
        "genre",
        [
            "99999999999999999999999",
            "0",
            "-1",
            "²",
            "1|²",
            "٣",
            "Ünïcødé ✓",
            "'; DROP TABLE movie; --",
            "%",
            "_",
        ],
    )
    async def test_odd_genre_values_answer_an_empty_page_not_500(
        self, client: AsyncClient, genre: str
    ) -> None:
        response = await client.get("/movies", params={"genre": genre})
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            assert response.json()["results"] == []

    @pytest.mark.parametrize("name", ["keyword", "company"])
    @pytest.mark.parametrize(
        "value",
        ["99999999999999999999999", "0", "-1", "²", "٣", "Ünïcødé ✓", "'; DROP TABLE movie; --",
         "%", "_", "x" * 300, "é" * 500],
    )  # fmt: skip
    async def test_odd_keyword_and_company_values_answer_an_empty_page_not_500(
        self, client: AsyncClient, name: str, value: str
    ) -> None:
        response = await client.get("/movies", params={name: value})
        assert response.status_code == 200, response.text
        assert response.json()["results"] == []


class TestPagination:
    async def test_envelope_math(self, client: AsyncClient, catalog: Catalog) -> None:
        genre = await catalog.genre()
        movies = [await catalog.movie(genres=[genre], popularity=float(i)) for i in range(5)]
        expected = [m.id for m in reversed(movies)]
        first = await get_list(client, genre=str(genre.id), per_page=2)
        assert {k: first[k] for k in ("page", "per_page", "total_results", "total_pages")} == {
            "page": 1, "per_page": 2, "total_results": 5, "total_pages": 3,
        }  # fmt: skip
        assert ids(first) == expected[:2]
        last = await get_list(client, genre=str(genre.id), per_page=2, page=3)
        assert ids(last) == expected[4:]
        assert last["page"] == 3

    async def test_exact_multiple_has_no_empty_last_page(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        for _ in range(4):
            await catalog.movie(genres=[genre])
        assert (await get_list(client, genre=str(genre.id), per_page=2))["total_pages"] == 2
        assert (await get_list(client, genre=str(genre.id), per_page=4))["total_pages"] == 1

    async def test_page_past_the_end_is_empty_not_an_error(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        await catalog.movie(genres=[genre])
        body = await get_list(client, genre=str(genre.id), page=7, per_page=5)
        assert body["results"] == []
        assert body["page"] == 7
        assert body["total_results"] == 1
        assert body["total_pages"] == 1

    async def test_defaults_are_page_1_and_20_per_page(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        for _ in range(21):
            await catalog.movie(genres=[genre])
        body = await get_list(client, genre=str(genre.id))
        assert (body["page"], body["per_page"], len(body["results"])) == (1, 20, 20)

    async def test_per_page_100_is_allowed(self, client: AsyncClient) -> None:
        assert (await get_list(client, per_page=100))["per_page"] == 100

    async def test_empty_list_envelope(self, client: AsyncClient) -> None:
        body = await get_list(client, genre=unique("nothing"))
        assert body == {
            "page": 1,
            "per_page": 20,
            "total_results": 0,
            "total_pages": 0,
            "results": [],
        }


class TestCuratedLists:
    async def test_popular_is_by_popularity_desc(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        movies = [await catalog.movie(popularity=p) for p in (900_001.0, 900_003.0, 900_002.0)]
        body = await get_list(client, "/movies/popular", per_page=100)
        assert own(body, movies) == [movies[1].id, movies[2].id, movies[0].id]
        popularity = [item["popularity"] for item in body["results"]]
        assert popularity == sorted(popularity, reverse=True)

    async def test_top_rated_needs_enough_votes_and_orders_by_average(
        self, client: AsyncClient, catalog: Catalog, settings: Settings
    ) -> None:
        minimum = settings.TOP_RATED_MIN_VOTES
        best = await catalog.movie(vote_average=9.97, vote_count=minimum + 1000)
        just_enough = await catalog.movie(vote_average=9.96, vote_count=minimum)
        too_few = await catalog.movie(vote_average=9.99, vote_count=minimum - 1)
        body = await get_list(client, "/movies/top-rated", per_page=100)
        assert own(body, [best, just_enough, too_few]) == [best.id, just_enough.id]
        assert all(item["vote_count"] >= minimum for item in body["results"])
        averages = [item["vote_average"] for item in body["results"]]
        assert averages == sorted(averages, reverse=True)

    async def test_upcoming_is_after_today_within_the_window_soonest_first(
        self, client: AsyncClient, catalog: Catalog, settings: Settings
    ) -> None:
        window = settings.UPCOMING_WINDOW_DAYS
        today = await catalog.movie(release_date=days(0))
        tomorrow = await catalog.movie(release_date=days(1))
        last_day = await catalog.movie(release_date=days(window))
        beyond = await catalog.movie(release_date=days(window + 1))
        mid = await catalog.movie(release_date=days(window // 2))
        past = await catalog.movie(release_date=days(-3))
        body = await get_list(client, "/movies/upcoming", per_page=100)
        movies = [today, tomorrow, last_day, beyond, mid, past]
        assert own(body, movies) == [tomorrow.id, mid.id, last_day.id]
        dates = [item["release_date"] for item in body["results"]]
        assert dates == sorted(dates)

    async def test_now_playing_is_the_recent_window_up_to_today(
        self, client: AsyncClient, catalog: Catalog, settings: Settings
    ) -> None:
        window = settings.NOW_PLAYING_WINDOW_DAYS
        today = await catalog.movie(release_date=days(0))
        first_day = await catalog.movie(release_date=days(-window))
        too_old = await catalog.movie(release_date=days(-window - 1))
        tomorrow = await catalog.movie(release_date=days(1))
        recent = await catalog.movie(release_date=days(-2))
        body = await get_list(client, "/movies/now-playing", per_page=100)
        found = set(own(body, [today, first_day, too_old, tomorrow, recent]))
        assert found == {today.id, first_day.id, recent.id}

    @pytest.mark.parametrize(
        "path", ["/movies/popular", "/movies/top-rated", "/movies/upcoming", "/movies/now-playing"]
    )
    async def test_curated_lists_are_paginated(self, client: AsyncClient, path: str) -> None:
        body = await get_list(client, path, per_page=3, page=1000)
        assert body["results"] == []
        assert {"page", "per_page", "total_results", "total_pages"} <= set(body)
        assert (await client.get(path, params={"per_page": 101})).status_code == 422


class TestListItemRecord:
    """Every database-served list item carries the details' keywords, companies, countries and
    languages, in their order; never cast, directors or crew."""

    async def test_list_items_carry_the_details_lists(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        star = await catalog.person()
        movie, expected = await with_record(catalog, star, genres=[genre], popularity=2)
        bare = await catalog.movie(genres=[genre], popularity=1)
        body = await get_list(client, genre=str(genre.id))
        assert ids(body) == [movie.id, bare.id]
        item, bare_item = body["results"]
        details = (await client.get(f"/movies/{movie.id}")).json()
        assert record(item) == record(details) == expected
        assert record(bare_item) == dict.fromkeys(RECORD_LISTS, [])
        assert not {"cast", "directors", "crew"} & set(item)

    @pytest.mark.parametrize(
        "path", ["/movies/popular", "/movies/top-rated", "/movies/trending", "/movies/now-playing"]
    )
    async def test_curated_lists_carry_them(
        self, client: AsyncClient, catalog: Catalog, settings: Settings, path: str
    ) -> None:
        movie, expected = await with_record(
            catalog,
            await catalog.person(),
            popularity=999_999.0,
            vote_average=10.0,
            vote_count=settings.TOP_RATED_MIN_VOTES + 10**6,
            release_date=days(0),
        )
        item = item_of(await get_list(client, path, per_page=100), movie)
        assert record(item) == expected

    async def test_similar_movies_and_credits_carry_them(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        star = await catalog.person()
        (movie, expected), (alike, alike_expected) = [
            await with_record(catalog, star) for _ in range(2)
        ]
        similar = await get_list(client, f"/movies/{alike.id}/similar")
        assert record(item_of(similar, movie)) == expected
        credits = (await client.get(f"/people/{star.id}")).json()["movie_credits"]
        for part in ("cast", "crew"):
            by_id = {item["id"]: record(item) for item in credits[part]}
            assert by_id == {movie.id: expected, alike.id: alike_expected}, part

    async def test_watchlist_items_carry_them(
        self, client: AsyncClient, catalog: Catalog, user: Account
    ) -> None:
        movie, expected = await with_record(catalog, await catalog.person())
        added = await client.post(f"/watchlist/{movie.id}", headers=user.headers)
        assert added.status_code == 201, added.text
        listed = await client.get("/watchlist", headers=user.headers)
        assert record(added.json()) == record(listed.json()["results"][0])
        assert record(added.json()) == expected


class TestGenres:
    async def test_counts_movies_and_lists_empty_genres(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        busy, empty = await catalog.genre(), await catalog.genre()
        await catalog.movie(genres=[busy])
        await catalog.movie(genres=[busy])
        response = await client.get("/genres")
        assert response.status_code == 200
        by_id = {g["id"]: g for g in response.json()}
        assert by_id[busy.id] == {"id": busy.id, "name": busy.name, "movie_count": 2}
        assert by_id[empty.id] == {"id": empty.id, "name": empty.name, "movie_count": 0}

    async def test_deleted_movie_leaves_the_count(
        self, client: AsyncClient, catalog: Catalog, admin: Any
    ) -> None:
        genre = await catalog.genre()
        movie = await catalog.movie(genres=[genre])
        await catalog.movie(genres=[genre])
        assert (
            await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        ).status_code == 204
        by_id = {g["id"]: g for g in (await client.get("/genres")).json()}
        assert by_id[genre.id]["movie_count"] == 1
