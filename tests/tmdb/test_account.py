"""/3/account, in process: the session's account (by no id, its id, or the literal
`{account_id}`; another account's id is TMDB's 401 code 3), watchlist and favorite writes
through Marquee's own lists (codes 1/12/13, 18, 34), their movie pages and the rated movies,
oldest first by default, and the empty TV and custom lists."""

from typing import Any

import pytest
from httpx import AsyncClient

from api.movies.models import Movie
from tests.api.conftest import Catalog
from tests.conftest import Account, MakeAccount
from tests.tmdb.conftest import MakeKey
from tests.tmdb.test_authentication import AUTH_FAILED, login, tmdb_error
from tests.tmdb.test_ratings import CREATED, DELETED, NOT_FOUND, UPDATED

EMPTY_PAGE = {"page": 1, "results": [], "total_pages": 1, "total_results": 0}
INVALID_PARAMS = {
    "success": False,
    "status_code": 5,
    "status_message": "Invalid parameters: Your request parameters are incorrect.",
}


class Session:
    """One session's calls to /3/account."""

    def __init__(self, client: AsyncClient, key: str, session_id: str, account_id: Any) -> None:
        self.client = client
        self.params = {"api_key": key, "session_id": session_id}
        self.account_id = account_id

    async def get(self, path: str = "", **params: Any) -> Any:
        url = f"/3/account/{self.account_id}{path}"
        return await self.client.get(url, params={**self.params, **params})

    async def set(self, which: str, movie_id: Any, on: bool, media_type: str = "movie") -> Any:
        body = {"media_type": media_type, "media_id": movie_id, which: on}
        url = f"/3/account/{self.account_id}/{which}"
        return await self.client.post(url, params=self.params, json=body)

    async def listed(self, path: str, **params: Any) -> list[int]:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["results"]]


@pytest.fixture
async def me(client: AsyncClient, user: Account, api_key: str) -> Session:
    return Session(client, api_key, await login(client, api_key, user), user.id)


@pytest.fixture
async def movies(catalog: Catalog) -> list[Movie]:
    genre = await catalog.genre()
    return [await catalog.movie(genres=[genre], vote_average=6.5, vote_count=2) for _ in range(3)]


def movie_ids(movies: list[Movie]) -> list[int]:
    return [movie.id for movie in movies if movie.id is not None]


class TestAccountDetails:
    async def test_the_id_less_form_answers_the_sessions_account(
        self, client: AsyncClient, me: Session, user: Account
    ) -> None:
        response = await client.get("/3/account", params=me.params)
        assert response.status_code == 200
        assert response.json() == {
            "avatar": {"gravatar": {"hash": ""}, "tmdb": {"avatar_path": None}},
            "id": user.id,
            "include_adult": False,
            "iso_639_1": "en",
            "iso_3166_1": "US",
            "name": user.user.display_name,
            "username": user.user.email,
        }

    async def test_by_its_id_and_by_the_literal_placeholder_the_same(
        self, client: AsyncClient, me: Session
    ) -> None:
        plain = (await client.get("/3/account", params=me.params)).json()
        assert (await me.get()).json() == plain
        placeholder = await client.get("/3/account/%7Baccount_id%7D", params=me.params)
        assert placeholder.json() == plain

    @pytest.mark.parametrize("account_id", ["0", "abc", "1e3", "-1", "٣"])
    async def test_an_id_that_is_not_the_sessions_returns_401_code_3(
        self, client: AsyncClient, me: Session, account_id: str
    ) -> None:
        response = await client.get(f"/3/account/{account_id}", params=me.params)
        tmdb_error(response, 401, AUTH_FAILED)

    async def test_another_users_account_id_returns_401_code_3(
        self, client: AsyncClient, me: Session, make_account: MakeAccount
    ) -> None:
        other = await make_account()
        for path in ("", "/watchlist/movies", "/favorite/movies", "/rated/movies", "/lists"):
            response = await client.get(f"/3/account/{other.id}{path}", params=me.params)
            tmdb_error(response, 401, AUTH_FAILED)

    async def test_without_a_session_returns_401_code_3(
        self, client: AsyncClient, api_key: str, user: Account
    ) -> None:
        for path in ("/3/account", f"/3/account/{user.id}", f"/3/account/{user.id}/rated/movies"):
            tmdb_error(await client.get(path, params={"api_key": api_key}), 401, AUTH_FAILED)

    async def test_a_revoked_api_key_returns_401_code_7(
        self, client: AsyncClient, user: Account, make_key: MakeKey
    ) -> None:
        key_id, key = await make_key(user)
        session = Session(client, key, await login(client, key, user), user.id)
        await client.delete(f"/users/me/api-keys/{key_id}", headers=user.headers)
        response = await session.get()
        assert (response.status_code, response.json()["status_code"]) == (401, 7)


@pytest.mark.parametrize(
    ("which", "native"), [("watchlist", "/watchlist"), ("favorite", "/favorites")]
)
class TestListWrites:
    async def test_adding_returns_201_code_1_then_code_12(
        self,
        client: AsyncClient,
        me: Session,
        user: Account,
        movies: list[Movie],
        which: str,
        native: str,
    ) -> None:
        movie_id = movies[0].id
        first = await me.set(which, movie_id, True)
        assert (first.status_code, first.json()) == (201, CREATED)
        again = await me.set(which, movie_id, True)
        assert (again.status_code, again.json()) == (201, UPDATED)
        listed = (await client.get(native, headers=user.headers)).json()
        assert [m["id"] for m in listed["results"]] == [movie_id]

    async def test_removing_returns_200_code_13_also_when_absent(
        self,
        client: AsyncClient,
        me: Session,
        user: Account,
        movies: list[Movie],
        which: str,
        native: str,
    ) -> None:
        movie_id = movies[0].id
        await me.set(which, movie_id, True)
        for _ in range(2):
            response = await me.set(which, movie_id, False)
            assert (response.status_code, response.json()) == (200, DELETED)
        assert (await client.get(native, headers=user.headers)).json()["results"] == []

    @pytest.mark.parametrize("media_type", ["tv", "person", ""])
    async def test_a_media_type_other_than_movie_returns_400_code_18(
        self, me: Session, movies: list[Movie], which: str, native: str, media_type: str
    ) -> None:
        response = await me.set(which, movies[0].id, True, media_type)
        assert (response.status_code, response.json()["status_code"]) == (400, 18)
        assert await me.listed(f"/{which}/movies") == []

    @pytest.mark.parametrize(
        "body", [{}, {"media_type": "movie", "media_id": "x"}, {"media_type": "movie"}]
    )
    async def test_a_bad_body_returns_400_code_18(
        self, client: AsyncClient, me: Session, which: str, native: str, body: dict[str, Any]
    ) -> None:
        url = f"/3/account/{me.account_id}/{which}"
        response = await client.post(url, params=me.params, json={**body, which: True})
        assert (response.status_code, response.json()["status_code"]) == (400, 18)

    @pytest.mark.parametrize("on", [True, False])
    async def test_an_unknown_movie_returns_404_code_34(
        self, me: Session, which: str, native: str, on: bool
    ) -> None:
        tmdb_error(await me.set(which, 999_999_999, on), 404, NOT_FOUND)

    async def test_another_users_account_id_returns_401_code_3_and_writes_nothing(
        self,
        client: AsyncClient,
        me: Session,
        make_account: MakeAccount,
        movies: list[Movie],
        which: str,
        native: str,
    ) -> None:
        other = await make_account()
        intruder = Session(client, me.params["api_key"], me.params["session_id"], other.id)
        tmdb_error(await intruder.set(which, movies[0].id, True), 401, AUTH_FAILED)
        assert (await client.get(native, headers=other.headers)).json()["results"] == []


@pytest.mark.parametrize("which", ["watchlist", "favorite"])
class TestListPages:
    async def test_movies_come_oldest_first_by_default(
        self, me: Session, movies: list[Movie], which: str
    ) -> None:
        order = [movies[1], movies[0], movies[2]]
        for movie in order:
            await me.set(which, movie.id, True)
        assert await me.listed(f"/{which}/movies") == movie_ids(order)
        assert await me.listed(f"/{which}/movies", sort_by="created_at.asc") == movie_ids(order)
        newest = await me.listed(f"/{which}/movies", sort_by="created_at.desc")
        assert newest == movie_ids(order)[::-1]

    async def test_the_page_is_tmdbs_with_movie_items(
        self, me: Session, movies: list[Movie], which: str
    ) -> None:
        await me.set(which, movies[0].id, True)
        body = (await me.get(f"/{which}/movies")).json()
        assert {k: body[k] for k in ("page", "total_pages", "total_results")} == {
            "page": 1,
            "total_pages": 1,
            "total_results": 1,
        }
        [item] = body["results"]
        assert item["id"] == movies[0].id and item["title"] == movies[0].title
        assert isinstance(item["genre_ids"][0], int) and item["vote_count"] == 2
        assert "rating" not in item

    async def test_a_page_past_the_end_is_empty_with_the_true_totals(
        self, me: Session, movies: list[Movie], which: str
    ) -> None:
        for movie in movies:
            await me.set(which, movie.id, True)
        body = (await me.get(f"/{which}/movies", page=2)).json()
        assert body == {"page": 2, "results": [], "total_pages": 1, "total_results": 3}

    @pytest.mark.parametrize("sort_by", ["title.asc", "created_at", "popularity.desc"])
    async def test_another_sort_returns_422_code_5(
        self, me: Session, which: str, sort_by: str
    ) -> None:
        tmdb_error(await me.get(f"/{which}/movies", sort_by=sort_by), 422, INVALID_PARAMS)

    @pytest.mark.parametrize("page", ["0", "501"])
    async def test_a_bad_page_returns_400_code_22(self, me: Session, which: str, page: str) -> None:
        response = await me.get(f"/{which}/movies", page=page)
        assert (response.status_code, response.json()["status_code"]) == (400, 22)

    async def test_other_users_movies_do_not_show(
        self, client: AsyncClient, me: Session, admin: Account, movies: list[Movie], which: str
    ) -> None:
        native = "/watchlist" if which == "watchlist" else "/favorites"
        await client.post(f"{native}/{movies[0].id}", headers=admin.headers)
        assert await me.listed(f"/{which}/movies") == []


class TestRatedMovies:
    async def test_rated_movies_carry_their_rating_oldest_first(
        self, client: AsyncClient, me: Session, movies: list[Movie]
    ) -> None:
        for movie, value in ((movies[2], 4.5), (movies[0], 10)):
            path = f"/3/movie/{movie.id}/rating"
            await client.post(path, params=me.params, json={"value": value})
        body = (await me.get("/rated/movies")).json()
        assert [(m["id"], m["rating"]) for m in body["results"]] == [
            (movies[2].id, 4.5),
            (movies[0].id, 10),
        ]
        assert body["total_results"] == 2
        assert await me.listed("/rated/movies", sort_by="created_at.desc") == [
            movies[0].id,
            movies[2].id,
        ]

    async def test_a_native_review_counts_as_a_rated_movie(
        self, client: AsyncClient, me: Session, user: Account, movies: list[Movie]
    ) -> None:
        await client.post(
            f"/reviews/{movies[1].id}", json={"rating": 6.5, "content": "ok"}, headers=user.headers
        )
        [item] = (await me.get("/rated/movies")).json()["results"]
        assert (item["id"], item["rating"], item["vote_count"]) == (movies[1].id, 6.5, 3)

    async def test_no_ratings_is_an_empty_page(self, me: Session) -> None:
        assert (await me.get("/rated/movies")).json() == EMPTY_PAGE


class TestEmptyLists:
    @pytest.mark.parametrize(
        "path", ["/lists", "/favorite/tv", "/watchlist/tv", "/rated/tv", "/rated/tv/episodes"]
    )
    async def test_custom_and_tv_lists_are_empty_pages(self, me: Session, path: str) -> None:
        response = await me.get(path)
        assert (response.status_code, response.json()) == (200, EMPTY_PAGE)

    async def test_they_need_the_sessions_own_account(
        self, client: AsyncClient, me: Session, admin: Account
    ) -> None:
        response = await client.get(f"/3/account/{admin.id}/favorite/tv", params=me.params)
        tmdb_error(response, 401, AUTH_FAILED)
