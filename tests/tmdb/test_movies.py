"""/3/movie/{id} (details with append_to_response), its standalone sub-resources and the
legacy paths, in process on the test database: TMDB's shapes and types from Marquee's record."""

from datetime import date, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import (
    Company,
    CrewCredit,
    Keyword,
    Movie,
    MovieCompany,
    MovieCountry,
    MovieDirector,
    MovieKeyword,
    MovieLanguage,
)
from api.reviews.models import Review
from api.types import utcnow
from tests.api.conftest import Catalog, unique
from tests.conftest import Account, MakeAccount


async def get(client: AsyncClient, path: str, key: str, **params: Any) -> Any:
    response = await client.get(path, params={"api_key": key, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def refused(client: AsyncClient, path: str, key: str, **params: Any) -> tuple[int, int]:
    """(HTTP status, TMDB code) of an error answer, checked to be TMDB's body."""
    response = await client.get(path, params={"api_key": key, **params})
    body = response.json()
    assert body["success"] is False and isinstance(body["status_message"], str)
    return response.status_code, body["status_code"]


async def add(db: AsyncSession, *rows: Any) -> None:
    for row in rows:
        db.add(row)
        await db.flush()
    await db.commit()


async def recorded_movie(catalog: Catalog, db: AsyncSession) -> dict[str, Any]:
    """A movie with the whole record: genre, cast, director, crew, keyword, company, country,
    language, budget and revenue; its parts by name."""
    genre = await catalog.genre()
    star = await catalog.person(profile_path="/star.jpg")
    star.gender, star.known_for_department, star.popularity = 2, "Acting", 12.5
    director = await catalog.person()
    director.gender = 1
    fields: dict[str, Any] = {
        "budget": 237_000_000,
        "revenue": 2_787_965_087,
        "homepage": "https://a.example",
    }
    movie = await catalog.movie(
        genres=[genre],
        cast=[star],
        release_date=date(2009, 12, 10),
        poster_path="/poster.jpg",
        backdrop_path="/backdrop.jpg",
        tagline="Enter the world.",
        runtime=162,
        **fields,
    )
    keyword = Keyword.model_validate({"name": unique("kw")})
    company = Company.model_validate({"name": unique("co")})
    await add(db, keyword, company)
    movie_id, star_id, director_id = movie.id, star.id, director.id
    await add(
        db,
        MovieKeyword.model_validate({"movie_id": movie_id, "keyword_id": keyword.id}),
        MovieCompany.model_validate({"movie_id": movie_id, "company_id": company.id}),
        MovieCountry.model_validate(
            {"movie_id": movie_id, "iso_3166_1": "US", "name": "United States of America"}
        ),
        MovieLanguage.model_validate({"movie_id": movie_id, "iso_639_1": "en", "name": "English"}),
        MovieDirector.model_validate({"movie_id": movie_id, "person_id": director_id}),
        crew(movie_id, director_id, "Directing", "Director"),
        crew(movie_id, star_id, "Writing", "Screenplay"),
    )
    return {
        "movie": movie,
        "genre": genre,
        "star": star,
        "director": director,
        "keyword": keyword,
        "company": company,
    }


def crew(movie_id: int | None, person_id: int | None, department: str, job: str) -> CrewCredit:
    fields = {"movie_id": movie_id, "person_id": person_id, "department": department, "job": job}
    return CrewCredit.model_validate(fields)


async def review(db: AsyncSession, account: Account, movie: Movie, rating: float) -> Review:
    fields = {"user_id": account.id, "movie_id": movie.id, "rating": rating, "content": "Loved it"}
    row = Review.model_validate(fields)
    await add(db, row)
    return row


class TestMovieDetails:
    async def test_details_carry_the_whole_record_with_tmdbs_types(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        made = await recorded_movie(catalog, db)
        movie = made["movie"]
        body = await get(client, f"/3/movie/{movie.id}", api_key)
        assert body["id"] == movie.id and body["title"] == movie.title
        assert body["budget"] == 237_000_000 and body["revenue"] == 2_787_965_087
        assert body["homepage"] == "https://a.example" and body["runtime"] == 162
        assert body["genres"] == [{"id": made["genre"].id, "name": made["genre"].name}]
        assert "genre_ids" not in body
        assert body["release_date"] == "2009-12-10" and body["tagline"] == "Enter the world."
        assert body["production_companies"][0]["id"] == made["company"].id
        assert body["production_countries"] == [
            {"iso_3166_1": "US", "name": "United States of America"}
        ]
        assert body["spoken_languages"][0]["iso_639_1"] == "en"
        assert body["poster_path"] == "/poster.jpg" and body["imdb_id"] is None
        assert "credits" not in body

    async def test_an_unknown_movie_is_tmdbs_404_code_34(
        self, client: AsyncClient, api_key: str
    ) -> None:
        assert await refused(client, "/3/movie/2147483000", api_key) == (404, 34)

    async def test_an_id_beyond_the_int_range_is_404_not_422(
        self, client: AsyncClient, api_key: str
    ) -> None:
        assert await refused(client, "/3/movie/99999999999999999999", api_key) == (404, 34)
        assert await refused(client, "/3/movie/99999999999/credits", api_key) == (404, 34)
        assert await refused(client, "/3/movie/0", api_key) == (404, 34)
        assert await refused(client, "/3/movie/-5/keywords", api_key) == (404, 34)
        assert await refused(client, "/3/movie/abc", api_key) == (404, 34)

    async def test_each_named_append_comes_under_its_name_and_unknown_names_are_ignored(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        made = await recorded_movie(catalog, db)
        names = (
            "credits,casts,images,videos,keywords,release_dates,external_ids,translations,"
            "alternative_titles,lists,watch/providers,trailers,changes,bogus,account_states"
        )
        body = await get(client, f"/3/movie/{made['movie'].id}", api_key, append_to_response=names)
        assert body["casts"] == body["credits"]
        assert body["credits"]["cast"][0]["id"] == made["star"].id
        assert body["images"]["posters"][0]["file_path"] == "/poster.jpg"
        assert body["videos"] == {"results": []}
        assert body["keywords"] == {
            "keywords": [{"id": made["keyword"].id, "name": made["keyword"].name}]
        }
        released = body["release_dates"]["results"][0]["release_dates"][0]
        assert released["release_date"] == "2009-12-10T00:00:00.000Z" and released["type"] == 3
        assert body["external_ids"]["imdb_id"] is None
        assert body["translations"] == {"translations": []}
        assert body["alternative_titles"] == {"titles": []}
        assert body["lists"]["results"] == [] and body["lists"]["total_pages"] == 1
        assert body["watch/providers"] == {"results": {}}
        assert body["trailers"] == {"quicktime": [], "youtube": []}
        assert body["changes"] == {"changes": []}
        assert "bogus" not in body and "account_states" not in body

    async def test_more_than_20_appends_is_400_code_27(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        names = ",".join(f"name{i}" for i in range(21))
        path = f"/3/movie/{movie.id}"
        assert await refused(client, path, api_key, append_to_response=names) == (400, 27)
        twenty = ",".join(f"name{i}" for i in range(20))
        assert (await get(client, path, api_key, append_to_response=twenty))["id"] == movie.id

    async def test_appended_reviews_are_the_first_page_with_whole_ratings_as_ints(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession, user: Account
    ) -> None:
        movie = await catalog.movie()
        made = await review(db, user, movie, 8.0)
        body = await get(client, f"/3/movie/{movie.id}", api_key, append_to_response="reviews")
        reviews = body["reviews"]
        assert (reviews["page"], reviews["total_results"], reviews["total_pages"]) == (1, 1, 1)
        [item] = reviews["results"]
        assert item["id"] == str(made.id) and item["content"] == "Loved it"
        assert item["author"] == user.user.display_name
        rating = item["author_details"]["rating"]
        assert rating == 8 and isinstance(rating, int)
        assert item["created_at"].endswith("Z") and len(item["created_at"]) == 24

    async def test_appended_similar_and_recommendations_list_movies_alike(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        made = await recorded_movie(catalog, db)
        alike = await catalog.movie(genres=[made["genre"]], cast=[made["star"]])
        body = await get(
            client,
            f"/3/movie/{made['movie'].id}",
            api_key,
            append_to_response="similar,recommendations",
        )
        assert body["similar"]["results"][0]["id"] == alike.id
        assert body["similar"]["results"][0]["genre_ids"] == [made["genre"].id]
        assert body["recommendations"] == body["similar"]


class TestCredits:
    async def test_credits_have_the_cast_and_the_full_crew_with_jobs(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        made = await recorded_movie(catalog, db)
        movie, star, director = made["movie"], made["star"], made["director"]
        body = await get(client, f"/3/movie/{movie.id}/credits", api_key)
        assert body["id"] == movie.id
        [cast] = body["cast"]
        assert (cast["id"], cast["name"], cast["order"]) == (star.id, star.name, 0)
        assert (cast["gender"], cast["popularity"]) == (2, 12.5)
        assert cast["profile_path"] == "/star.jpg" and isinstance(cast["credit_id"], str)
        jobs = {(c["id"], c["department"], c["job"]) for c in body["crew"]}
        assert jobs == {
            (director.id, "Directing", "Director"),
            (star.id, "Writing", "Screenplay"),
        }
        directing = next(c for c in body["crew"] if c["job"] == "Director")
        assert directing["gender"] == 1 and directing["name"] == director.name
        credit_ids = [c["credit_id"] for c in body["cast"] + body["crew"]]
        assert len(set(credit_ids)) == 3

    async def test_credits_of_an_unknown_movie_are_404_code_34(
        self, client: AsyncClient, api_key: str
    ) -> None:
        assert await refused(client, "/3/movie/2147483000/credits", api_key) == (404, 34)


class TestSubResources:
    async def test_each_standalone_part_carries_the_movies_id(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        made = await recorded_movie(catalog, db)
        movie_id = made["movie"].id
        path = f"/3/movie/{movie_id}"
        keywords = await get(client, f"{path}/keywords", api_key)
        assert keywords == {
            "id": movie_id,
            "keywords": [{"id": made["keyword"].id, "name": made["keyword"].name}],
        }
        images = await get(client, f"{path}/images", api_key)
        assert images["id"] == movie_id
        assert images["backdrops"][0]["file_path"] == "/backdrop.jpg"
        assert await get(client, f"{path}/videos", api_key) == {"id": movie_id, "results": []}
        release = await get(client, f"{path}/release_dates", api_key)
        assert release["results"][0]["iso_3166_1"] == "US"
        ids = await get(client, f"{path}/external_ids", api_key)
        assert ids["id"] == movie_id and ids["imdb_id"] is None
        assert (await get(client, f"{path}/translations", api_key))["translations"] == []
        assert (await get(client, f"{path}/alternative_titles", api_key))["titles"] == []
        assert (await get(client, f"{path}/watch/providers", api_key))["results"] == {}
        assert (await get(client, f"{path}/changes", api_key)) == {"id": movie_id, "changes": []}
        lists = await get(client, f"{path}/lists", api_key)
        assert lists == {
            "id": movie_id,
            "page": 1,
            "results": [],
            "total_pages": 1,
            "total_results": 0,
        }

    async def test_every_standalone_part_of_an_unknown_movie_is_404_code_34(
        self, client: AsyncClient, api_key: str
    ) -> None:
        parts = (
            "keywords images videos reviews similar recommendations release_dates external_ids "
            "translations alternative_titles lists watch/providers changes releases similar_movies"
        )
        for part in parts.split():
            assert await refused(client, f"/3/movie/2147483000/{part}", api_key) == (404, 34)

    async def test_reviews_page_newest_first_with_the_movies_id(
        self,
        client: AsyncClient,
        api_key: str,
        catalog: Catalog,
        db: AsyncSession,
        make_account: MakeAccount,
    ) -> None:
        movie = await catalog.movie()
        first = await review(db, await make_account(), movie, 7.5)
        first.created_at = utcnow() - timedelta(days=1)
        second = await review(db, await make_account(), movie, 9.0)
        await db.commit()
        body = await get(client, f"/3/movie/{movie.id}/reviews", api_key)
        assert body["id"] == movie.id and body["total_results"] == 2
        assert [r["id"] for r in body["results"]] == [str(second.id), str(first.id)]
        assert [r["author_details"]["rating"] for r in body["results"]] == [9, 7.5]
        past = await get(client, f"/3/movie/{movie.id}/reviews", api_key, page=2)
        assert past["results"] == [] and past["total_results"] == 2

    async def test_a_bad_page_is_400_code_22(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        for page in ("0", "501", "abc"):
            path = f"/3/movie/{movie.id}/similar"
            assert await refused(client, path, api_key, page=page) == (400, 22)

    async def test_similar_pages_exclude_the_movie_and_name_its_id(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        made = await recorded_movie(catalog, db)
        alike = await catalog.movie(cast=[made["star"]])
        for part in ("similar", "recommendations", "similar_movies"):
            body = await get(client, f"/3/movie/{made['movie'].id}/{part}", api_key)
            assert body["id"] == made["movie"].id
            assert [m["id"] for m in body["results"]] == [alike.id]
            assert body["results"][0]["vote_count"] == 0

    async def test_legacy_releases_give_the_plain_release_date(
        self, client: AsyncClient, api_key: str, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(release_date=date(1999, 3, 31))
        body = await get(client, f"/3/movie/{movie.id}/releases", api_key)
        assert body["id"] == movie.id
        assert body["countries"] == [
            {"certification": "", "iso_3166_1": "US", "primary": True, "release_date": "1999-03-31"}
        ]
        undated = await catalog.movie()
        assert (await get(client, f"/3/movie/{undated.id}/release_dates", api_key))["results"] == []

    async def test_latest_is_the_movie_added_last(
        self, client: AsyncClient, api_key: str, catalog: Catalog, db: AsyncSession
    ) -> None:
        await catalog.movie()
        newest = await catalog.movie()
        newest.created_at = utcnow() + timedelta(days=365)
        await db.commit()
        body = await get(client, "/3/movie/latest", api_key)
        assert body["id"] == newest.id and body["title"] == newest.title

    async def test_sub_resources_need_an_api_key(
        self, client: AsyncClient, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        response = await client.get(f"/3/movie/{movie.id}/credits")
        assert response.status_code == 401 and response.json()["status_code"] == 7
