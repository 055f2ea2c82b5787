"""Account deletion (DELETE /users/me): the password confirms it; the ratings leave their
movies' votes exactly as if never made, also while others rate the same movies; lists, API
keys, sessions and trending activity go with the account; the movies reach the outbox."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import ANY

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.lists.models import ListEntry
from api.movies.models import Movie
from api.outbox import SearchOutbox
from api.reviews.models import Review
from api.reviews.schemas import ReviewCreate
from api.reviews.service import create_review
from api.tmdb.models import TmdbRequestToken, TmdbSession
from api.trending.models import MovieActivity
from api.users.models import ApiKey, RevokedToken, User
from tests.api.committed import Committed, committed_world
from tests.api.conftest import Catalog
from tests.api.test_sessions import (
    PASSWORD,
    bearer,
    logout,
    sign_in,
    tmdb_account,
    tmdb_session,
    tmdb_token,
    token_of,
)
from tests.conftest import Account, MakeAccount

# What a user owns, by the column naming them: every one must be empty once the account goes.
OWNED: list[tuple[type[SQLModel], Any]] = [
    (Review, Review.user_id),
    (ListEntry, ListEntry.user_id),
    (ApiKey, ApiKey.user_id),
    (TmdbSession, TmdbSession.user_id),
    (TmdbRequestToken, TmdbRequestToken.user_id),
    (RevokedToken, RevokedToken.user_id),
    (MovieActivity, MovieActivity.user_id),
    (User, User.id),
]


async def delete_account(
    client: AsyncClient, headers: dict[str, str], path: str = "/users/me", **body: Any
) -> Any:
    return await client.request("DELETE", path, json=body, headers=headers)


async def rate(client: AsyncClient, headers: dict[str, str], movie_id: int, rating: float) -> int:
    response = await client.post(f"/reviews/{movie_id}", json={"rating": rating}, headers=headers)
    return response.status_code


async def stored_votes(db: AsyncSession, movie_id: int) -> tuple[float, int, float, int]:
    """The movie's votes as stored: average, count, and the users' running sum and count."""
    names = ("vote_average", "vote_count", "user_rating_sum", "user_rating_count")
    stmt = select(*(getattr(Movie, name) for name in names)).where(col(Movie.id) == movie_id)
    average, count, users_sum, users_count = (await db.execute(stmt)).one()
    return average, count, users_sum, users_count


async def served_votes(client: AsyncClient, movie_id: int) -> tuple[float, int]:
    body = (await client.get(f"/movies/{movie_id}")).json()
    return body["vote_average"], body["vote_count"]


async def owned_counts(db: AsyncSession, user_id: int) -> dict[str, int]:
    counts = {}
    for model, column in OWNED:
        stmt = select(func.count()).select_from(model).where(column == user_id)
        counts[model.__name__] = (await db.execute(stmt)).scalar_one()
    return counts


async def pending_outbox(db: AsyncSession, movie_id: int) -> int:
    stmt = select(func.count()).select_from(SearchOutbox)
    pending = col(SearchOutbox.processed_at).is_(None)
    return (
        await db.execute(stmt.where(col(SearchOutbox.movie_id) == movie_id, pending))
    ).scalar_one()


class TestVotesMoveBack:
    async def test_the_movies_numbers_are_exactly_those_before_the_ratings(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, make_account: MakeAccount
    ) -> None:
        # Imported votes whose product is inexact in binary, so any drift would show.
        movie = await catalog.movie(vote_average=7.3, vote_count=11)
        alone = await catalog.movie(vote_average=5.1, vote_count=7)
        assert movie.id is not None and alone.id is not None
        one, two, victim = await make_account(), await make_account(), await make_account()
        assert await rate(client, one.headers, movie.id, 8.5) == 201
        assert await rate(client, two.headers, movie.id, 3.0) == 201
        before = await stored_votes(db, movie.id)
        assert before[1:] == (13, 11.5, 2)
        served = await served_votes(client, movie.id)  # cached, when the cache is on
        assert await rate(client, victim.headers, movie.id, 9.5) == 201
        assert await rate(client, victim.headers, alone.id, 0.5) == 201
        assert await stored_votes(db, movie.id) != before
        assert await served_votes(client, movie.id) != served

        response = await delete_account(client, victim.headers, password=PASSWORD)
        assert (response.status_code, response.content) == (204, b"")

        assert await stored_votes(db, movie.id) == before
        assert await stored_votes(db, alone.id) == (5.1, 7, 0.0, 0)
        assert await served_votes(client, movie.id) == served == (7.062, 13)  # rounded to 3 places
        assert await served_votes(client, alone.id) == (5.1, 7)
        # The other users' ratings stay, and still move the votes as before.
        await client.delete(f"/reviews/{movie.id}", headers=one.headers)
        assert await stored_votes(db, movie.id) == (
            pytest.approx((7.3 * 11 + 3.0) / 12),
            12,
            3.0,
            1,
        )

    async def test_the_rated_movies_reach_the_outbox_and_search(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, user: Account
    ) -> None:
        movies = [await catalog.movie(vote_average=6.0, vote_count=4) for _ in range(2)]
        ids = [m.id for m in movies if m.id is not None]
        for movie_id in ids:
            assert await rate(client, user.headers, movie_id, 7.0) == 201
        pending = [await pending_outbox(db, movie_id) for movie_id in ids]
        assert (await delete_account(client, user.headers, password=PASSWORD)).status_code == 204
        assert [await pending_outbox(db, movie_id) for movie_id in ids] == [n + 1 for n in pending]

    async def test_an_account_without_reviews_is_deleted_too(
        self, client: AsyncClient, db: AsyncSession, user: Account
    ) -> None:
        assert (await delete_account(client, user.headers, password=PASSWORD)).status_code == 204
        assert await db.get(User, user.id, populate_existing=True) is None


class TestEverythingOwnedGoes:
    async def test_lists_keys_sessions_activity_and_the_account_are_deleted(
        self,
        client: AsyncClient,
        db: AsyncSession,
        catalog: Catalog,
        user: Account,
        make_account: MakeAccount,
    ) -> None:
        movie = await catalog.movie(vote_average=6.0, vote_count=4)
        other = await make_account()
        for who in (user, other):
            assert await rate(client, who.headers, movie.id, 8.0) == 201  # type: ignore[arg-type]
            for path in (f"/watchlist/{movie.id}", f"/favorites/{movie.id}"):
                assert (await client.post(path, headers=who.headers)).status_code == 201
        key, session_id = await tmdb_session(client, user)
        await tmdb_token(client, key, user)  # approved, not yet used
        assert (await logout(client, bearer(await token_of(client, user)))).status_code == 204
        before = await owned_counts(db, user.id)
        assert before == {
            "Review": 1,
            "ListEntry": 2,
            "ApiKey": 1,
            "TmdbSession": 1,
            "TmdbRequestToken": 1,
            "RevokedToken": 1,
            "MovieActivity": 3,  # the rating and the two list adds
            "User": 1,
        }
        others = await owned_counts(db, other.id)

        assert (await delete_account(client, user.headers, password=PASSWORD)).status_code == 204

        assert await owned_counts(db, user.id) == dict.fromkeys(before, 0)
        assert await owned_counts(db, other.id) == others
        refused = await client.get("/users/me", headers=user.headers)
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")
        assert (await sign_in(client, user.user.email)).status_code == 401
        assert await tmdb_account(client, key, session_id) == 401

    async def test_trailing_slash_answers_the_same(
        self, client: AsyncClient, db: AsyncSession, user: Account
    ) -> None:
        response = await delete_account(client, user.headers, "/users/me/", password=PASSWORD)
        assert response.status_code == 204
        assert (await owned_counts(db, user.id))["User"] == 0


class TestRefused:
    async def test_a_wrong_password_returns_403_and_changes_nothing(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, user: Account
    ) -> None:
        movie = await catalog.movie(vote_average=6.0, vote_count=4)
        assert await rate(client, user.headers, movie.id, 9.0) == 201  # type: ignore[arg-type]
        await client.post(f"/watchlist/{movie.id}", headers=user.headers)
        votes, owned = await stored_votes(db, movie.id), await owned_counts(db, user.id)  # type: ignore[arg-type]
        pending = await pending_outbox(db, movie.id)  # type: ignore[arg-type]
        response = await delete_account(client, user.headers, password="not my password")
        assert (response.status_code, response.json()["code"]) == (403, "wrong_password")
        assert await stored_votes(db, movie.id) == votes  # type: ignore[arg-type]
        assert await owned_counts(db, user.id) == owned
        assert await pending_outbox(db, movie.id) == pending  # type: ignore[arg-type]
        assert (await client.get("/users/me", headers=user.headers)).status_code == 200

    @pytest.mark.parametrize(
        "body", [{}, {"password": PASSWORD, "extra": 1}, {"password": "x" * 129}, None]
    )
    async def test_a_body_without_the_password_returns_422(
        self, client: AsyncClient, db: AsyncSession, user: Account, body: Any
    ) -> None:
        response = await client.request("DELETE", "/users/me", json=body, headers=user.headers)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")
        assert (await owned_counts(db, user.id))["User"] == 1

    async def test_without_a_token_returns_401(self, client: AsyncClient) -> None:
        response = await delete_account(client, {}, password=PASSWORD)
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


@pytest.fixture
async def world(app: Any) -> AsyncIterator[tuple[Committed, AsyncClient]]:
    async with committed_world(app) as pair:
        yield pair


# Requests held at once behind the gate: within the app's pool (10 + 20 overflow) with room
# for the gate's and the poll's connections.
RACERS = 6
BASE = {"base_vote_average": 7.0, "base_vote_count": 3, "vote_average": 7.0, "vote_count": 3}
# Connections of this test database whose statement has run for a while: in this test's
# tiny database, a statement waiting on a row lock.
BLOCKED = text(
    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()"
    " AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND TIME_MS > 100"
)


async def until_waiting(rows: Committed, count: int) -> None:
    """Return once `count` requests wait on rows this test holds locked."""
    for _ in range(2000):
        async with rows.sessionmaker() as session:
            if (await session.execute(BLOCKED)).scalar_one() >= count:
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} requests never all waited on a lock")


@asynccontextmanager
async def gate(rows: Committed, movie_ids: list[int]) -> AsyncIterator[None]:
    """Hold the movies' rows locked on a connection of its own; open the gate on leaving."""
    async with rows.sessionmaker() as session:
        locks = select(col(Movie.id)).where(col(Movie.id).in_(movie_ids)).with_for_update()
        await session.execute(locks)
        yield
        await session.commit()


class TestConcurrentRatings:
    async def test_deletion_amid_others_ratings_leaves_exact_votes(
        self, world: tuple[Committed, AsyncClient]
    ) -> None:
        """Others rate, re-rate and unrate the account's movies on their own connections, all
        held behind the movies' locks with the deletion, then let go at once."""
        rows, http = world
        shared = [await rows.movie(**BASE) for _ in range(2)]
        victim, *others = await rows.users(1 + 2 * RACERS)
        early, late = others[:RACERS], others[RACERS:]
        for movie_id, rating in zip(shared, (9.5, 0.5), strict=True):
            assert await rate(http, victim, movie_id, rating) == 201
        for headers in early:
            for movie_id in shared:
                assert await rate(http, headers, movie_id, 6.0) == 201

        async def re_rate(headers: dict[str, str], movie_id: int) -> int:
            response = await http.put(f"/reviews/{movie_id}", json={"rating": 2.5}, headers=headers)
            return response.status_code

        async def unrate(headers: dict[str, str], movie_id: int) -> int:
            return (await http.delete(f"/reviews/{movie_id}", headers=headers)).status_code

        half = RACERS // 2
        work = [
            *(rate(http, h, m, 8.0 + i % 5 * 0.5) for i, h in enumerate(late) for m in shared),
            *(re_rate(h, m) for h in early[:half] for m in shared),
            *(unrate(h, shared[0]) for h in early[half:]),
        ]
        mid = len(work) // 2
        work.insert(mid, delete_account(http, victim, password=PASSWORD))
        async with gate(rows, shared):
            running = asyncio.gather(*work)
            await until_waiting(rows, len(work))
        results: list[Any] = list(await running)

        deletion = results.pop(mid)
        assert deletion.status_code == 204, deletion.text
        assert results == [201] * (2 * RACERS) + [200] * (2 * half) + [204] * (RACERS - half)
        async with rows.sessionmaker() as session:
            assert await exact(session, shared[0]) == (2 * RACERS - (RACERS - half), ANY)
            assert await exact(session, shared[1]) == (2 * RACERS, ANY)
            assert await owned(session, rows.user_ids[0]) == 0

    async def test_a_rating_of_the_account_in_flight_is_taken_out_too(
        self, world: tuple[Committed, AsyncClient]
    ) -> None:
        """The account's own rating, not yet committed when the deletion starts (and none
        before it): the deletion waits for it and takes it out."""
        rows, http = world
        movie_id = await rows.movie(**BASE)
        [victim] = await rows.users(1)
        async with rows.sessionmaker() as rating:
            user = await rating.get(User, rows.user_ids[-1])
            assert user is not None
            await create_review(rating, user, movie_id, ReviewCreate.model_validate({"rating": 10}))
            deletion = asyncio.ensure_future(delete_account(http, victim, password=PASSWORD))
            try:
                await until_waiting(rows, 1)
            finally:
                await rating.commit()
        assert (await deletion).status_code == 204
        async with rows.sessionmaker() as session:
            assert await exact(session, movie_id) == (0, 0.0)


async def exact(session: AsyncSession, movie_id: int) -> tuple[int, float]:
    """Checks that the movie's stored votes agree exactly with its reviews; (count, sum)."""
    stmt = select(func.count(), func.coalesce(func.sum(Review.rating), 0.0))
    count, total = (await session.execute(stmt.where(col(Review.movie_id) == movie_id))).one()
    movie = (await session.execute(select(Movie).where(col(Movie.id) == movie_id))).scalar_one()
    assert (movie.user_rating_count, movie.user_rating_sum) == (count, total)
    assert movie.vote_count == 3 + count
    assert movie.vote_average == (7.0 * 3 + total) / (3 + count)
    return count, float(total)


async def owned(session: AsyncSession, user_id: int) -> int:
    """Rows of any kind the account still owns."""
    return sum((await owned_counts(session, user_id)).values())
