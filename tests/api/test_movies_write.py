"""Catalog writes: POST, PUT, PATCH and DELETE /movies as an admin."""

from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import CastCredit, Genre, Movie, MovieDirector, MovieGenre
from api.outbox import SearchOutbox
from api.people.models import Person
from api.settings import Settings
from tests.api.conftest import Catalog, unique
from tests.conftest import Account

MISSING = object()
MOVIE_FIELDS = {
    "id", "title", "original_title", "overview", "tagline", "release_date", "original_language",
    "runtime", "status", "genres", "cast", "directors", "poster_path", "backdrop_path",
    "poster_url", "popularity", "vote_average", "vote_count", "created_at", "updated_at",
    "budget", "revenue", "homepage", "keywords", "production_companies", "production_countries",
    "spoken_languages", "crew",
}  # fmt: skip


def parse_utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, value  # type: ignore[union-attr]
    return parsed


async def create(client: AsyncClient, admin: Account, **body: Any) -> Response:
    body.setdefault("title", unique("Film"))
    return await client.post("/movies", json=body, headers=admin.headers)


async def created(client: AsyncClient, admin: Account, **body: Any) -> dict[str, Any]:
    response = await create(client, admin, **body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def count(db: AsyncSession, model: Any, *where: Any) -> int:
    return (await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def outbox_rows(db: AsyncSession, movie_id: int) -> int:
    return await count(db, SearchOutbox, SearchOutbox.movie_id == movie_id)


def assert_validation_error(response: Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list) and body["errors"]


class TestCreateMovie:
    async def test_create_answers_201_with_the_full_resource(
        self, client: AsyncClient, admin: Account, settings: Settings, catalog: Catalog
    ) -> None:
        actor = await catalog.person(profile_path="/actor.jpg")
        before = datetime.now(UTC).replace(microsecond=0)
        body = await created(
            client,
            admin,
            title="The Long Take",
            original_title="La Toma Larga",
            overview="A heist told in one shot.",
            tagline="No cuts.",
            release_date="2021-06-15",
            original_language="ES",
            runtime=118,
            status="Post Production",
            genres=["Thriller", "Drama"],
            cast=[
                {"name": "Second Billed", "character": "B", "order": 1},
                {"person_id": actor.id, "character": "A", "order": 0},
            ],
            directors=[{"name": "Some Director"}],
            poster_path="/poster.jpg",
            backdrop_path="/backdrop.jpg",
            popularity=12.5,
        )
        assert set(body) >= MOVIE_FIELDS
        assert isinstance(body["id"], int)
        assert body["title"] == "The Long Take"
        assert body["original_title"] == "La Toma Larga"
        assert body["overview"] == "A heist told in one shot."
        assert body["tagline"] == "No cuts."
        assert body["release_date"] == "2021-06-15"
        assert body["original_language"] == "es"
        assert body["runtime"] == 118
        assert body["status"] == "Post Production"
        assert sorted(g["name"] for g in body["genres"]) == ["Drama", "Thriller"]
        assert all(set(g) == {"id", "name"} and isinstance(g["id"], int) for g in body["genres"])
        assert [c["name"] for c in body["cast"]] == [actor.name, "Second Billed"]
        assert body["cast"][0] == {
            "id": actor.id,
            "name": actor.name,
            "character": "A",
            "order": 0,
            "profile_path": "/actor.jpg",
        }
        assert body["cast"][1]["order"] == 1 and body["cast"][1]["character"] == "B"
        assert [d["name"] for d in body["directors"]] == ["Some Director"]
        assert set(body["directors"][0]) == {"id", "name"}
        assert body["poster_path"] == "/poster.jpg"
        assert body["backdrop_path"] == "/backdrop.jpg"
        assert body["poster_url"] == settings.IMAGE_BASE_URL.rstrip("/") + "/poster.jpg"
        assert body["popularity"] == 12.5
        assert body["vote_average"] == 0
        assert body["vote_count"] == 0
        assert parse_utc(body["created_at"]) >= before
        assert parse_utc(body["updated_at"]) >= before

    async def test_created_movie_reads_back_identically(
        self, client: AsyncClient, admin: Account
    ) -> None:
        body = await created(
            client, admin, genres=["Drama"], cast=[{"name": "Someone"}], directors=[{"name": "D"}]
        )
        read = await client.get(f"/movies/{body['id']}")
        assert read.status_code == 200
        assert read.json() == body

    async def test_only_a_title_gives_the_defaults(
        self, client: AsyncClient, admin: Account
    ) -> None:
        body = await created(client, admin, title="  Bare  ")
        assert body["title"] == "Bare"
        assert body["original_title"] == "Bare"
        assert body["overview"] == ""
        assert body["tagline"] is None
        assert body["release_date"] is None
        assert body["runtime"] is None
        assert body["status"] == "Released"
        assert body["original_language"] == "en"
        assert body["genres"] == [] and body["cast"] == [] and body["directors"] == []
        assert body["poster_path"] is None and body["poster_url"] is None

    async def test_cast_without_order_keeps_the_given_billing_order(
        self, client: AsyncClient, admin: Account
    ) -> None:
        names = [unique("actor") for _ in range(4)]
        body = await created(client, admin, cast=[{"name": n} for n in names])
        assert [c["name"] for c in body["cast"]] == names
        assert [c["order"] for c in body["cast"]] == [0, 1, 2, 3]

    async def test_anonymous_gets_401(self, client: AsyncClient, db: AsyncSession) -> None:
        title = unique("Anon")
        response = await client.post("/movies", json={"title": title})
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert await count(db, Movie, Movie.title == title) == 0

    async def test_non_admin_gets_403(
        self, client: AsyncClient, user: Account, db: AsyncSession
    ) -> None:
        title = unique("NotAdmin")
        response = await client.post("/movies", json={"title": title}, headers=user.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": response.json()["detail"], "code": "admin_required"}
        assert await count(db, Movie, Movie.title == title) == 0

    async def test_create_records_a_search_outbox_row(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        body = await created(client, admin)
        assert await outbox_rows(db, body["id"]) >= 1


class TestMoneyAndHomepage:
    async def test_admins_set_budget_revenue_and_homepage(
        self, client: AsyncClient, admin: Account
    ) -> None:
        movie = await created(
            client, admin, budget=5_000_000, homepage="https://film.example/", runtime=90
        )
        assert (movie["budget"], movie["revenue"], movie["homepage"]) == (
            5_000_000,
            None,
            "https://film.example/",
        )
        patched = await client.patch(
            f"/movies/{movie['id']}", json={"revenue": 12_345_678}, headers=admin.headers
        )
        assert patched.status_code == 200
        assert (patched.json()["budget"], patched.json()["revenue"]) == (5_000_000, 12_345_678)
        assert (await client.get(f"/movies/{movie['id']}")).json()["revenue"] == 12_345_678

    @pytest.mark.parametrize(
        "body",
        [{"budget": -1}, {"budget": "lots"}, {"homepage": "javascript:alert(1)"}, {"revenue": 0}],
    )
    async def test_bad_money_or_homepage_is_refused(
        self, client: AsyncClient, admin: Account, body: dict[str, Any]
    ) -> None:
        assert_validation_error(await create(client, admin, **body))


class TestCreateGenres:
    async def test_new_genre_names_are_created(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        name = unique("Genre")
        body = await created(client, admin, genres=[name])
        genre_id = body["genres"][0]["id"]
        assert (await db.get(Genre, genre_id)).name == name  # type: ignore[union-attr]

    async def test_existing_genre_is_reused_case_insensitively(
        self, client: AsyncClient, admin: Account, db: AsyncSession, catalog: Catalog
    ) -> None:
        genre = await catalog.genre(unique("Noir"))
        body = await created(client, admin, genres=[genre.name.upper()])
        assert body["genres"] == [{"id": genre.id, "name": genre.name}]
        assert await count(db, Genre, func.lower(Genre.name) == genre.name.lower()) == 1

    async def test_same_new_genre_twice_in_other_case_gives_one_row(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        name = unique("Twin")
        body = await created(client, admin, genres=[name, name.upper(), f" {name} "])
        assert len(body["genres"]) == 1
        assert await count(db, Genre, func.lower(Genre.name) == name.lower()) == 1
        assert await count(db, MovieGenre, MovieGenre.movie_id == body["id"]) == 1

    async def test_genre_by_id(self, client: AsyncClient, admin: Account, catalog: Catalog) -> None:
        genre = await catalog.genre()
        body = await created(client, admin, genres=[genre.id])
        assert body["genres"] == [{"id": genre.id, "name": genre.name}]

    async def test_genre_id_as_a_string_is_an_id_not_a_new_name(
        self, client: AsyncClient, admin: Account, db: AsyncSession, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        body = await created(client, admin, genres=[str(genre.id)])
        assert body["genres"] == [{"id": genre.id, "name": genre.name}]
        assert await count(db, Genre, Genre.name == str(genre.id)) == 0

    async def test_genre_by_id_and_name_of_the_same_genre_gives_one_link(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        genre = await catalog.genre()
        body = await created(client, admin, genres=[genre.id, genre.name])
        assert body["genres"] == [{"id": genre.id, "name": genre.name}]

    async def test_unknown_genre_id_returns_422_and_creates_nothing(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        title, new_genre = unique("Ghost"), unique("Fresh")
        response = await create(client, admin, title=title, genres=[new_genre, 2_000_000_000])
        assert response.status_code == 422
        assert response.json()["code"] == "unknown_genre"
        assert [e["loc"] for e in response.json()["errors"]] == [["body", "genres"]]
        assert await count(db, Movie, Movie.title == title) == 0
        assert await count(db, Genre, Genre.name == new_genre) == 0

    @pytest.mark.parametrize("name", ["Sci,Fi", "Sci|Fi"])
    async def test_genre_name_with_a_filter_separator_returns_422_and_creates_nothing(
        self, client: AsyncClient, admin: Account, db: AsyncSession, name: str
    ) -> None:
        title = unique("Separated")
        response = await create(client, admin, title=title, genres=[name])
        assert_validation_error(response)
        assert [e["loc"] for e in response.json()["errors"]] == [["body", "genres"]]
        assert "cannot contain" in response.json()["detail"]
        assert await count(db, Movie, Movie.title == title) == 0
        assert await count(db, Genre, Genre.name == name) == 0

    async def test_genre_name_with_a_filter_separator_is_refused_on_update(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        movie = await created(client, admin)
        response = await client.patch(
            f"/movies/{movie['id']}", json={"genres": ["Sci,Fi"]}, headers=admin.headers
        )
        assert_validation_error(response)
        assert await count(db, Genre, Genre.name == "Sci,Fi") == 0


class TestCreatePeople:
    async def test_cast_by_name_reuses_an_existing_person(
        self, client: AsyncClient, admin: Account, db: AsyncSession, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        body = await created(client, admin, cast=[{"name": person.name, "character": "X"}])
        assert body["cast"][0]["id"] == person.id
        assert await count(db, Person, Person.name == person.name) == 1

    async def test_director_by_name_reuses_an_existing_person(
        self, client: AsyncClient, admin: Account, db: AsyncSession, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        body = await created(client, admin, directors=[{"name": person.name}])
        assert body["directors"] == [{"id": person.id, "name": person.name}]
        assert await count(db, Person, Person.name == person.name) == 1

    async def test_new_cast_name_creates_one_person_for_cast_and_director(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        name = unique("Auteur")
        body = await created(client, admin, cast=[{"name": name}], directors=[{"name": name}])
        assert body["cast"][0]["id"] == body["directors"][0]["id"]
        assert await count(db, Person, Person.name == name) == 1

    async def test_person_by_id(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        body = await created(
            client, admin, cast=[{"person_id": person.id}], directors=[{"person_id": person.id}]
        )
        assert body["cast"][0]["id"] == person.id
        assert body["directors"][0]["id"] == person.id

    @pytest.mark.parametrize("field", ["cast", "directors"])
    async def test_unknown_person_id_returns_422_and_creates_nothing(
        self, client: AsyncClient, admin: Account, db: AsyncSession, field: str
    ) -> None:
        title = unique("Nobody")
        response = await create(
            client, admin, title=title, **{field: [{"person_id": 2_000_000_000}]}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "unknown_person"
        assert [e["loc"] for e in response.json()["errors"]] == [["body", field]]
        assert await count(db, Movie, Movie.title == title) == 0

    async def test_person_needs_an_id_or_a_name(self, client: AsyncClient, admin: Account) -> None:
        assert_validation_error(await create(client, admin, cast=[{"character": "Nobody"}]))

    async def test_duplicate_director_is_listed_once(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        person = await catalog.person()
        body = await created(
            client, admin, directors=[{"person_id": person.id}, {"name": person.name}]
        )
        assert body["directors"] == [{"id": person.id, "name": person.name}]


class TestCreateValidation:
    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"title": ""}, id="empty-title"),
            pytest.param({"title": "   "}, id="whitespace-title"),
            pytest.param({"title": "t" * 301}, id="301-char-title"),
            pytest.param({"title": 5}, id="title-not-a-string"),
            pytest.param({"title": None}, id="null-title"),
            pytest.param({"title": MISSING}, id="missing-title"),
            pytest.param({"release_date": "2023-02-30"}, id="impossible-date"),
            pytest.param({"release_date": "15/06/2021"}, id="date-format"),
            pytest.param({"release_date": "0001-01-01"}, id="implausible-date"),
            pytest.param({"runtime": -1}, id="negative-runtime"),
            pytest.param({"runtime": "long"}, id="runtime-not-a-number"),
            pytest.param({"runtime": 90.5}, id="fractional-runtime"),
            pytest.param({"original_language": "english"}, id="language-word"),
            pytest.param({"original_language": "EN1"}, id="language-digit"),
            pytest.param({"original_language": "e"}, id="language-short"),
            pytest.param({"status": "Finished"}, id="unknown-status"),
            pytest.param({"popularity": -1}, id="negative-popularity"),
            pytest.param({"poster_path": "http://evil.example/x.jpg"}, id="absolute-poster"),
            pytest.param({"genres": "Action"}, id="genres-not-a-list"),
            pytest.param({"genres": [""]}, id="empty-genre-name"),
            pytest.param({"genres": [0]}, id="genre-id-zero"),
            pytest.param({"genres": [{"name": "Action"}]}, id="genre-object"),
            pytest.param({"genres": [f"g{i}" for i in range(21)]}, id="21-genres"),
            pytest.param({"cast": [{"name": f"p{i}"} for i in range(501)]}, id="501-cast"),
            pytest.param({"directors": [{"name": f"d{i}"} for i in range(21)]}, id="21-directors"),
            pytest.param({"cast": [{"name": "A", "role": "x"}]}, id="unknown-cast-field"),
            pytest.param({"cast": [{"name": "A", "order": -1}]}, id="negative-order"),
            pytest.param({"cast": "A"}, id="cast-not-a-list"),
            pytest.param({"rating": 9}, id="unknown-field"),
            pytest.param({"id": 5}, id="id-in-body"),
            pytest.param({"vote_average": 9.9}, id="vote-average-not-writable"),
        ],
    )
    async def test_bad_input_returns_422_with_the_envelope_and_creates_nothing(
        self, client: AsyncClient, admin: Account, db: AsyncSession, body: dict[str, Any]
    ) -> None:
        marker = unique("Rejected")
        body = {
            k: v
            for k, v in {"title": marker, "overview": marker, **body}.items()
            if v is not MISSING
        }
        outbox_before = await count(db, SearchOutbox)
        response = await client.post("/movies", json=body, headers=admin.headers)
        assert_validation_error(response)
        assert await count(db, Movie, Movie.overview == marker) == 0
        assert await count(db, SearchOutbox) == outbox_before

    async def test_body_that_is_not_an_object_returns_422(
        self, client: AsyncClient, admin: Account
    ) -> None:
        assert_validation_error(await client.post("/movies", json=["title"], headers=admin.headers))

    async def test_errors_point_at_the_bad_field(self, client: AsyncClient, admin: Account) -> None:
        response = await create(client, admin, runtime=-1)
        assert_validation_error(response)
        assert ["body", "runtime"] in [e["loc"] for e in response.json()["errors"]]


class TestUpdateMovie:
    @pytest.fixture
    async def movie(self, client: AsyncClient, admin: Account) -> dict[str, Any]:
        return await created(
            client,
            admin,
            title="Before",
            overview="Old overview",
            tagline="Old tagline",
            release_date="2000-01-01",
            runtime=100,
            original_language="fr",
            genres=[unique("Old")],
            cast=[{"name": unique("OldActor"), "character": "Hero"}],
            directors=[{"name": unique("OldDirector")}],
            poster_path="/old.jpg",
        )

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_absent_fields_stay(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any], method: str
    ) -> None:
        response = await client.request(
            method, f"/movies/{movie['id']}", json={"runtime": 101}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["runtime"] == 101
        unchanged = {k: v for k, v in movie.items() if k not in {"runtime", "updated_at"}}
        assert {k: body[k] for k in unchanged} == unchanged
        assert parse_utc(body["updated_at"]) >= parse_utc(movie["updated_at"])
        assert (await client.get(f"/movies/{movie['id']}")).json() == body

    async def test_title_change_keeps_original_title(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any]
    ) -> None:
        body = (
            await client.put(
                f"/movies/{movie['id']}", json={"title": "After"}, headers=admin.headers
            )
        ).json()
        assert body["title"] == "After"
        assert body["original_title"] == "Before"

    async def test_nullable_fields_can_be_cleared(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any]
    ) -> None:
        clear = {"tagline": None, "release_date": None, "runtime": None, "poster_path": None}
        response = await client.patch(f"/movies/{movie['id']}", json=clear, headers=admin.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert {k: body[k] for k in clear} == clear
        assert body["poster_url"] is None
        assert body["title"] == "Before"

    async def test_genres_are_replaced_when_present(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any], db: AsyncSession
    ) -> None:
        new = unique("New")
        response = await client.put(
            f"/movies/{movie['id']}", json={"genres": [new]}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert [g["name"] for g in response.json()["genres"]] == [new]
        assert await count(db, MovieGenre, MovieGenre.movie_id == movie["id"]) == 1
        old_genre_id = movie["genres"][0]["id"]
        assert await db.get(Genre, old_genre_id) is not None  # the genre itself stays

    async def test_empty_genres_list_removes_all(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any]
    ) -> None:
        body = (
            await client.patch(f"/movies/{movie['id']}", json={"genres": []}, headers=admin.headers)
        ).json()
        assert body["genres"] == []
        assert body["cast"] == movie["cast"]

    async def test_cast_and_directors_are_replaced_when_present(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any], db: AsyncSession
    ) -> None:
        old_actor = movie["cast"][0]
        names = [unique("NewA"), unique("NewB")]
        # the old actor comes back in a new role: replacing, not appending
        cast = [
            {"name": names[0]},
            {"person_id": old_actor["id"], "character": "Villain"},
            {"name": names[1]},
        ]
        response = await client.put(
            f"/movies/{movie['id']}", json={"cast": cast, "directors": []}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert [c["name"] for c in body["cast"]] == [names[0], old_actor["name"], names[1]]
        assert body["cast"][1]["character"] == "Villain"
        assert body["directors"] == []
        assert body["genres"] == movie["genres"]
        assert await count(db, CastCredit, CastCredit.movie_id == movie["id"]) == 3
        assert await count(db, MovieDirector, MovieDirector.movie_id == movie["id"]) == 0
        assert await db.get(Person, movie["directors"][0]["id"]) is not None

    async def test_cast_can_be_replaced_twice(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any]
    ) -> None:
        url = f"/movies/{movie['id']}"
        first = await client.patch(url, json={"cast": [{"name": "One"}]}, headers=admin.headers)
        second = await client.patch(
            url, json={"cast": [{"name": "Two"}, {"name": "One"}]}, headers=admin.headers
        )
        assert first.status_code == second.status_code == 200
        assert [c["name"] for c in second.json()["cast"]] == ["Two", "One"]

    @pytest.mark.parametrize(
        "field",
        [
            "title",
            "original_title",
            "original_language",
            "status",
            "overview",
            "genres",
            "cast",
            "directors",
            "popularity",
        ],
    )
    async def test_null_for_a_required_field_returns_422(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any], field: str
    ) -> None:
        response = await client.patch(
            f"/movies/{movie['id']}", json={field: None}, headers=admin.headers
        )
        assert_validation_error(response)
        assert (await client.get(f"/movies/{movie['id']}")).json() == movie

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"title": "Changed", "runtime": -5}, id="bad-runtime"),
            pytest.param({"title": "Changed", "genres": [2_000_000_000]}, id="unknown-genre-id"),
            pytest.param(
                {
                    "title": "Changed",
                    "genres": [unique("Brand")],
                    "cast": [{"person_id": 2_000_000_000}],
                },
                id="unknown-person",
            ),
            pytest.param(
                {"title": "Changed", "directors": [{"person_id": 2_000_000_000}]},
                id="unknown-director",
            ),
            pytest.param({"title": "Changed", "extra": 1}, id="unknown-field"),
        ],
    )
    async def test_rejected_update_changes_nothing(
        self,
        client: AsyncClient,
        admin: Account,
        movie: dict[str, Any],
        db: AsyncSession,
        body: dict[str, Any],
    ) -> None:
        outbox_before = await outbox_rows(db, movie["id"])
        response = await client.put(f"/movies/{movie['id']}", json=body, headers=admin.headers)
        assert response.status_code == 422
        assert (await client.get(f"/movies/{movie['id']}")).json() == movie
        assert await outbox_rows(db, movie["id"]) == outbox_before

    async def test_unknown_movie_returns_404(self, client: AsyncClient, admin: Account) -> None:
        response = await client.put(
            "/movies/2000000000", json={"title": "X"}, headers=admin.headers
        )
        assert response.status_code == 404
        assert response.json()["code"] == "movie_not_found"

    async def test_non_admin_gets_403_and_changes_nothing(
        self, client: AsyncClient, user: Account, movie: dict[str, Any]
    ) -> None:
        response = await client.patch(
            f"/movies/{movie['id']}", json={"title": "Hijack"}, headers=user.headers
        )
        assert response.status_code == 403
        assert (await client.get(f"/movies/{movie['id']}")).json()["title"] == "Before"

    async def test_anonymous_gets_401(self, client: AsyncClient, movie: dict[str, Any]) -> None:
        response = await client.put(f"/movies/{movie['id']}", json={"title": "Hijack"})
        assert response.status_code == 401

    async def test_update_records_a_search_outbox_row(
        self, client: AsyncClient, admin: Account, movie: dict[str, Any], db: AsyncSession
    ) -> None:
        before = await outbox_rows(db, movie["id"])
        response = await client.patch(
            f"/movies/{movie['id']}", json={"tagline": "New"}, headers=admin.headers
        )
        assert response.status_code == 200
        assert await outbox_rows(db, movie["id"]) == before + 1


class TestDeleteMovie:
    async def test_delete_answers_204_then_404(self, client: AsyncClient, admin: Account) -> None:
        movie = await created(client, admin)
        response = await client.delete(f"/movies/{movie['id']}", headers=admin.headers)
        assert response.status_code == 204
        assert response.content == b""
        gone = await client.get(f"/movies/{movie['id']}")
        assert gone.status_code == 404
        assert gone.json()["code"] == "movie_not_found"

    async def test_delete_removes_credits_and_links_but_keeps_people_and_genres(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        movie = await created(
            client,
            admin,
            genres=[unique("Kept")],
            cast=[{"name": unique("KeptActor")}],
            directors=[{"name": unique("KeptDir")}],
        )
        assert (
            await client.delete(f"/movies/{movie['id']}", headers=admin.headers)
        ).status_code == 204
        assert await count(db, Movie, Movie.id == movie["id"]) == 0
        assert await count(db, MovieGenre, MovieGenre.movie_id == movie["id"]) == 0
        assert await count(db, CastCredit, CastCredit.movie_id == movie["id"]) == 0
        assert await count(db, MovieDirector, MovieDirector.movie_id == movie["id"]) == 0
        assert await db.get(Genre, movie["genres"][0]["id"]) is not None
        assert await db.get(Person, movie["cast"][0]["id"]) is not None
        assert await db.get(Person, movie["directors"][0]["id"]) is not None

    async def test_delete_records_a_search_outbox_row(
        self, client: AsyncClient, admin: Account, db: AsyncSession
    ) -> None:
        movie = await created(client, admin)
        before = await outbox_rows(db, movie["id"])
        assert (
            await client.delete(f"/movies/{movie['id']}", headers=admin.headers)
        ).status_code == 204
        assert await outbox_rows(db, movie["id"]) == before + 1

    async def test_unknown_movie_returns_404(self, client: AsyncClient, admin: Account) -> None:
        response = await client.delete("/movies/2000000000", headers=admin.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "movie_not_found"

    async def test_second_delete_returns_404(self, client: AsyncClient, admin: Account) -> None:
        movie = await created(client, admin)
        assert (
            await client.delete(f"/movies/{movie['id']}", headers=admin.headers)
        ).status_code == 204
        assert (
            await client.delete(f"/movies/{movie['id']}", headers=admin.headers)
        ).status_code == 404

    async def test_non_admin_gets_403_and_the_movie_stays(
        self, client: AsyncClient, admin: Account, user: Account
    ) -> None:
        movie = await created(client, admin)
        assert (
            await client.delete(f"/movies/{movie['id']}", headers=user.headers)
        ).status_code == 403
        assert (await client.delete(f"/movies/{movie['id']}")).status_code == 401
        assert (await client.get(f"/movies/{movie['id']}")).status_code == 200
