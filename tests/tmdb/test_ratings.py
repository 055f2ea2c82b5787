"""/3 ratings and account states, in process: a rating is the session user's native review
rating (so the votes, the cache, the activity and the search outbox move as with a native
rating), TMDB's codes 1/12/13 and its 400 code 18 messages, and `account_states`."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.movies.models import Movie
from api.outbox import SearchOutbox
from api.reviews.models import Review
from api.trending.models import MovieActivity
from tests.api.conftest import Catalog
from tests.conftest import Account
from tests.tmdb.test_authentication import AUTH_FAILED, login, tmdb_error

CREATED = {"success": True, "status_code": 1, "status_message": "Success."}
UPDATED = {
    "success": True,
    "status_code": 12,
    "status_message": "The item/record was updated successfully.",
}
DELETED = {
    "success": True,
    "status_code": 13,
    "status_message": "The item/record was deleted successfully.",
}
NOT_FOUND = {
    "success": False,
    "status_code": 34,
    "status_message": "The resource you requested could not be found.",
}
TOO_HIGH = "Value too high: Value must be less than, or equal to 10.0."
TOO_LOW = "Value too low: Value must be greater than 0.0."
NOT_A_STEP = "Value invalid: Values must be a multiple of 0.50."


class Rater:
    """A session's view of /3: rate, unrate and read account states of movies."""

    def __init__(self, client: AsyncClient, key: str, session_id: str) -> None:
        self.client = client
        self.params = {"api_key": key, "session_id": session_id}

    async def rate(self, movie_id: int, value: Any) -> Any:
        path = f"/3/movie/{movie_id}/rating"
        return await self.client.post(path, params=self.params, json={"value": value})

    async def unrate(self, movie_id: int, body: Any = None) -> Any:
        path = f"/3/movie/{movie_id}/rating"
        return await self.client.request("DELETE", path, params=self.params, json=body)

    async def states(self, movie_id: int) -> Any:
        return await self.client.get(f"/3/movie/{movie_id}/account_states", params=self.params)


@pytest.fixture
async def rater(client: AsyncClient, user: Account, api_key: str) -> Rater:
    return Rater(client, api_key, await login(client, api_key, user))


@pytest.fixture
async def movie(catalog: Catalog) -> Movie:
    return await catalog.movie(vote_average=7.0, vote_count=3)


async def votes(db: AsyncSession, movie_id: int) -> tuple[Any, ...]:
    """The movie's stored votes, exactly."""
    stmt = select(
        Movie.vote_average, Movie.vote_count, Movie.user_rating_sum, Movie.user_rating_count
    ).where(col(Movie.id) == movie_id)
    return tuple((await db.execute(stmt.execution_options(populate_existing=True))).one())


async def review_of(db: AsyncSession, user: Account, movie_id: int) -> Review | None:
    stmt = select(Review).where(col(Review.user_id) == user.id, col(Review.movie_id) == movie_id)
    return (await db.execute(stmt.execution_options(populate_existing=True))).scalars().first()


class TestRate:
    async def test_a_first_rating_returns_201_code_1_and_is_the_native_rating(
        self, client: AsyncClient, rater: Rater, user: Account, movie: Movie
    ) -> None:
        response = await rater.rate(movie.id, 8.5)
        assert (response.status_code, response.json()) == (201, CREATED)
        native = await client.get(f"/movies/{movie.id}/account-state/", headers=user.headers)
        assert native.json() == {"watchlist": False, "favorite": False, "rating": 8.5}

    async def test_rating_again_returns_201_code_12_and_changes_it(
        self, client: AsyncClient, rater: Rater, user: Account, movie: Movie
    ) -> None:
        await rater.rate(movie.id, 6)
        response = await rater.rate(movie.id, 9.5)
        assert (response.status_code, response.json()) == (201, UPDATED)
        native = await client.get(f"/movies/{movie.id}/account-state", headers=user.headers)
        assert native.json()["rating"] == 9.5

    async def test_a_native_reviews_text_stays_when_its_rating_changes(
        self, client: AsyncClient, rater: Rater, user: Account, movie: Movie, db: AsyncSession
    ) -> None:
        body = {"rating": 4, "content": "Slow, then wonderful."}
        assert (
            await client.post(f"/reviews/{movie.id}", json=body, headers=user.headers)
        ).status_code == 201
        assert (await rater.rate(movie.id, 7)).json() == UPDATED
        review = await review_of(db, user, movie.id)
        assert review is not None
        assert (review.rating, review.content) == (7.0, "Slow, then wonderful.")

    async def test_the_votes_move_exactly_as_a_native_rating_moves_them(
        self, client: AsyncClient, rater: Rater, user: Account, catalog: Catalog, db: AsyncSession
    ) -> None:
        through_3 = await catalog.movie(vote_average=6.9, vote_count=7)
        native = await catalog.movie(vote_average=6.9, vote_count=7)
        before = await votes(db, native.id)
        await rater.rate(through_3.id, 9.5)
        await client.post(f"/reviews/{native.id}", json={"rating": 9.5}, headers=user.headers)
        assert await votes(db, through_3.id) == await votes(db, native.id) != before
        assert (await votes(db, through_3.id))[1:] == (8, 9.5, 1)
        await rater.rate(through_3.id, 3)
        await client.put(f"/reviews/{native.id}", json={"rating": 3.0}, headers=user.headers)
        assert await votes(db, through_3.id) == await votes(db, native.id)

    async def test_deleting_the_rating_restores_the_votes_exactly(
        self, rater: Rater, movie: Movie, db: AsyncSession
    ) -> None:
        before = await votes(db, movie.id)
        await rater.rate(movie.id, 10)
        assert await votes(db, movie.id) != before
        await rater.unrate(movie.id)
        assert await votes(db, movie.id) == before

    async def test_a_rating_records_activity_and_an_index_change_like_a_native_one(
        self, rater: Rater, movie: Movie, db: AsyncSession
    ) -> None:
        await rater.rate(movie.id, 5)
        kinds = select(MovieActivity.kind).where(col(MovieActivity.movie_id) == movie.id)
        assert list((await db.execute(kinds)).scalars()) == ["rating"]
        outbox = select(func.count()).where(col(SearchOutbox.movie_id) == movie.id)
        assert (await db.execute(outbox)).scalar_one() >= 1

    async def test_a_cached_native_answer_shows_the_new_votes(
        self, client: AsyncClient, rater: Rater, movie: Movie, cache_on: Any
    ) -> None:
        first = (await client.get(f"/movies/{movie.id}")).json()
        assert (await client.get(f"/movies/{movie.id}")).json() == first  # a cache hit
        await rater.rate(movie.id, 1)
        after = (await client.get(f"/movies/{movie.id}")).json()
        assert (after["vote_count"], after["vote_average"]) == (4, 5.5)

    @pytest.mark.parametrize("value", [8, 8.0, "8", "8.0"])
    async def test_integers_and_numeric_strings_are_accepted(
        self, rater: Rater, movie: Movie, value: Any
    ) -> None:
        assert (await rater.rate(movie.id, value)).status_code == 201
        assert (await rater.states(movie.id)).json()["rated"] == {"value": 8}

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (10.5, TOO_HIGH),
            (11, TOO_HIGH),
            (1e308, TOO_HIGH),
            (0, TOO_LOW),
            (-1, TOO_LOW),
            (7.3, NOT_A_STEP),
            (0.25, NOT_A_STEP),
            ("abc", "Validation failed."),
            (True, "Validation failed."),
            (None, "Validation failed."),
            ([8], "Validation failed."),
        ],
    )
    async def test_a_bad_value_returns_400_code_18_with_tmdbs_words(
        self, rater: Rater, movie: Movie, db: AsyncSession, value: Any, message: str
    ) -> None:
        body = {"success": False, "status_code": 18, "status_message": message}
        tmdb_error(await rater.rate(movie.id, value), 400, body)
        assert await votes(db, movie.id) == (7.0, 3, 0.0, 0)

    async def test_without_a_body_returns_400_code_18(self, rater: Rater, movie: Movie) -> None:
        path = f"/3/movie/{movie.id}/rating"
        response = await rater.client.post(path, params=rater.params)
        assert (response.status_code, response.json()["status_code"]) == (400, 18)

    @pytest.mark.parametrize("movie_id", [999_999_999, 2**31, 2**63])
    async def test_an_unknown_movie_returns_404_code_34(self, rater: Rater, movie_id: int) -> None:
        tmdb_error(await rater.rate(movie_id, 8), 404, NOT_FOUND)

    async def test_without_a_session_returns_401_code_3(
        self, client: AsyncClient, api_key: str, movie: Movie, db: AsyncSession
    ) -> None:
        path = f"/3/movie/{movie.id}/rating"
        response = await client.post(path, params={"api_key": api_key}, json={"value": 8})
        tmdb_error(response, 401, AUTH_FAILED)
        assert await votes(db, movie.id) == (7.0, 3, 0.0, 0)


class TestDeleteRating:
    async def test_delete_returns_200_code_13_and_removes_the_review_text_included(
        self, client: AsyncClient, rater: Rater, user: Account, movie: Movie, db: AsyncSession
    ) -> None:
        body = {"rating": 4, "content": "Words that go too."}
        await client.post(f"/reviews/{movie.id}", json=body, headers=user.headers)
        response = await rater.unrate(movie.id, {"value": None})
        assert (response.status_code, response.json()) == (200, DELETED)
        assert await review_of(db, user, movie.id) is None
        native = await client.get(f"/movies/{movie.id}/account-state", headers=user.headers)
        assert native.json()["rating"] is None

    async def test_deleting_when_unrated_also_returns_200_code_13(
        self, rater: Rater, movie: Movie, db: AsyncSession
    ) -> None:
        response = await rater.unrate(movie.id)
        assert (response.status_code, response.json()) == (200, DELETED)
        assert await votes(db, movie.id) == (7.0, 3, 0.0, 0)

    async def test_an_unknown_movie_returns_404_code_34(self, rater: Rater) -> None:
        tmdb_error(await rater.unrate(999_999_999), 404, NOT_FOUND)

    async def test_another_users_rating_is_out_of_reach(
        self, client: AsyncClient, rater: Rater, admin: Account, movie: Movie, db: AsyncSession
    ) -> None:
        await client.post(f"/reviews/{movie.id}", json={"rating": 2}, headers=admin.headers)
        assert (await rater.unrate(movie.id)).json() == DELETED
        assert await review_of(db, admin, movie.id) is not None

    async def test_without_a_session_returns_401_code_3(
        self, client: AsyncClient, api_key: str, movie: Movie
    ) -> None:
        path = f"/3/movie/{movie.id}/rating"
        tmdb_error(await client.delete(path, params={"api_key": api_key}), 401, AUTH_FAILED)


class TestAccountStates:
    async def test_an_untouched_movie_is_rated_false(self, rater: Rater, movie: Movie) -> None:
        response = await rater.states(movie.id)
        assert response.status_code == 200
        expected = {"id": movie.id, "favorite": False, "rated": False, "watchlist": False}
        assert response.json() == expected

    async def test_rating_watchlist_and_favorite_show(
        self, client: AsyncClient, rater: Rater, user: Account, movie: Movie
    ) -> None:
        await rater.rate(movie.id, 7.5)
        await client.post(f"/watchlist/{movie.id}", headers=user.headers)
        await client.post(f"/favorites/{movie.id}", headers=user.headers)
        expected = {"id": movie.id, "favorite": True, "rated": {"value": 7.5}, "watchlist": True}
        assert (await rater.states(movie.id)).json() == expected

    async def test_a_whole_rating_is_an_integer(self, rater: Rater, movie: Movie) -> None:
        await rater.rate(movie.id, 9.0)
        rated = (await rater.states(movie.id)).json()["rated"]
        assert rated == {"value": 9} and isinstance(rated["value"], int)

    async def test_another_users_states_do_not_show(
        self, client: AsyncClient, rater: Rater, admin: Account, movie: Movie
    ) -> None:
        await client.post(f"/reviews/{movie.id}", json={"rating": 2}, headers=admin.headers)
        await client.post(f"/watchlist/{movie.id}", headers=admin.headers)
        assert (await rater.states(movie.id)).json()["rated"] is False
        assert (await rater.states(movie.id)).json()["watchlist"] is False

    async def test_an_unknown_movie_returns_404_code_34(self, rater: Rater) -> None:
        tmdb_error(await rater.states(999_999_999), 404, NOT_FOUND)

    async def test_without_a_session_returns_401_code_3(
        self, client: AsyncClient, api_key: str, movie: Movie
    ) -> None:
        path = f"/3/movie/{movie.id}/account_states"
        tmdb_error(await client.get(path, params={"api_key": api_key}), 401, AUTH_FAILED)


class TestAccountStatesAppended:
    """`/3/movie/{id}?append_to_response=account_states`: the caller's states with a session
    (tmdbapis' full load asks for it), left out without one, never shared through the cache."""

    async def test_with_a_session_the_states_are_appended(
        self, client: AsyncClient, rater: Rater, movie: Movie
    ) -> None:
        await rater.rate(movie.id, 6.5)
        params = {**rater.params, "append_to_response": "account_states,keywords"}
        body = (await client.get(f"/3/movie/{movie.id}", params=params)).json()
        assert body["account_states"] == {
            "id": movie.id, "favorite": False, "rated": {"value": 6.5}, "watchlist": False,
        }  # fmt: skip
        assert body["keywords"] == {"keywords": []}

    async def test_without_a_session_they_are_left_out_even_after_a_sessions_answer(
        self, client: AsyncClient, rater: Rater, movie: Movie
    ) -> None:
        await rater.rate(movie.id, 6.5)
        params = {**rater.params, "append_to_response": "account_states"}
        assert "account_states" in (await client.get(f"/3/movie/{movie.id}", params=params)).json()
        anonymous = {"api_key": rater.params["api_key"], "append_to_response": "account_states"}
        body = (await client.get(f"/3/movie/{movie.id}", params=anonymous)).json()
        assert body["id"] == movie.id
        assert "account_states" not in body

    async def test_a_revoked_session_leaves_them_out(
        self, client: AsyncClient, rater: Rater, movie: Movie
    ) -> None:
        deleted = await client.request(
            "DELETE", "/3/authentication/session", params={"api_key": rater.params["api_key"]},
            json={"session_id": rater.params["session_id"]},
        )  # fmt: skip
        assert deleted.status_code == 200
        params = {**rater.params, "append_to_response": "account_states"}
        assert (
            "account_states" not in (await client.get(f"/3/movie/{movie.id}", params=params)).json()
        )
