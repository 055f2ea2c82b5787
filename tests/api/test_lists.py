"""Watchlist and favorites: adding, removing, listing, account state, cascades and races."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.lists.models import ListEntry
from api.movies.models import Movie
from api.trending.models import MovieActivity
from api.users.models import User
from tests.api.committed import Committed, committed_world
from tests.api.conftest import Catalog, ids
from tests.conftest import Account, MakeAccount

LISTS = ["watchlist", "favorites"]


@pytest.fixture
async def movie(catalog: Catalog) -> Movie:
    return await catalog.movie(vote_average=7.0, vote_count=3)


async def entries(db: AsyncSession, user_id: int, movie_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(ListEntry)
        .where(ListEntry.user_id == user_id, ListEntry.movie_id == movie_id)
    )
    return (await db.execute(stmt)).scalar_one()


@pytest.mark.parametrize("path", LISTS)
class TestAddToList:
    async def test_new_movie_returns_201_with_the_listed_movie(
        self, client: AsyncClient, user: Account, movie: Movie, path: str
    ) -> None:
        response = await client.post(f"/{path}/{movie.id}", headers=user.headers)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["id"] == movie.id and body["title"] == movie.title
        assert body["added_at"] and body["genres"] == []

    async def test_movie_already_there_returns_200_without_duplicate(
        self, client: AsyncClient, db: AsyncSession, user: Account, movie: Movie, path: str
    ) -> None:
        first = await client.post(f"/{path}/{movie.id}", headers=user.headers)
        again = await client.post(f"/{path}/{movie.id}/", headers=user.headers)
        assert again.status_code == 200
        assert again.json()["added_at"] == first.json()["added_at"]
        assert await entries(db, user.id, movie.id) == 1  # type: ignore[arg-type]

    async def test_unknown_movie_returns_404(
        self, client: AsyncClient, user: Account, path: str
    ) -> None:
        response = await client.post(f"/{path}/999999999", headers=user.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "movie_not_found"

    async def test_anonymous_returns_401(
        self, client: AsyncClient, movie: Movie, path: str
    ) -> None:
        assert (await client.post(f"/{path}/{movie.id}")).status_code == 401

    async def test_non_numeric_or_zero_id_is_rejected(
        self, client: AsyncClient, user: Account, path: str
    ) -> None:
        assert (await client.post(f"/{path}/0", headers=user.headers)).status_code == 422
        assert (await client.post(f"/{path}/abc", headers=user.headers)).status_code in (404, 405)

    async def test_add_records_activity_once(
        self, client: AsyncClient, db: AsyncSession, user: Account, movie: Movie, path: str
    ) -> None:
        await client.post(f"/{path}/{movie.id}", headers=user.headers)
        await client.post(f"/{path}/{movie.id}", headers=user.headers)
        stmt = select(MovieActivity.kind).where(MovieActivity.movie_id == movie.id)
        assert list((await db.execute(stmt)).scalars()) == [path.rstrip("s")]


@pytest.mark.parametrize("path", LISTS)
class TestRemoveFromList:
    async def test_listed_movie_is_removed_with_204(
        self, client: AsyncClient, db: AsyncSession, user: Account, movie: Movie, path: str
    ) -> None:
        await client.post(f"/{path}/{movie.id}", headers=user.headers)
        assert (await client.delete(f"/{path}/{movie.id}", headers=user.headers)).status_code == 204
        assert await entries(db, user.id, movie.id) == 0  # type: ignore[arg-type]

    async def test_removing_an_unlisted_movie_is_idempotent_204(
        self, client: AsyncClient, user: Account, movie: Movie, path: str
    ) -> None:
        assert (await client.delete(f"/{path}/{movie.id}", headers=user.headers)).status_code == 204

    async def test_unknown_movie_returns_404(
        self, client: AsyncClient, user: Account, path: str
    ) -> None:
        assert (await client.delete(f"/{path}/999999999", headers=user.headers)).status_code == 404

    async def test_anonymous_returns_401(
        self, client: AsyncClient, movie: Movie, path: str
    ) -> None:
        assert (await client.delete(f"/{path}/{movie.id}")).status_code == 401


@pytest.mark.parametrize("path", LISTS)
class TestReadList:
    async def test_newest_first_paginated_and_only_mine(
        self,
        client: AsyncClient,
        catalog: Catalog,
        user: Account,
        make_account: MakeAccount,
        path: str,
    ) -> None:
        movies = [await catalog.movie() for _ in range(3)]
        for m in movies:
            await client.post(f"/{path}/{m.id}", headers=user.headers)
        await client.post(f"/{path}/{movies[0].id}", headers=(await make_account()).headers)
        page = (await client.get(f"/{path}?per_page=2", headers=user.headers)).json()
        assert page["total_results"] == 3 and page["total_pages"] == 2
        assert ids(page) == [movies[2].id, movies[1].id]
        rest = (await client.get(f"/{path}/?per_page=2&page=2", headers=user.headers)).json()
        assert ids(rest) == [movies[0].id]
        assert {"added_at", "vote_average", "poster_url", "genres"} <= set(rest["results"][0])

    async def test_lists_are_kept_apart(
        self, client: AsyncClient, user: Account, movie: Movie, path: str
    ) -> None:
        other = "favorites" if path == "watchlist" else "watchlist"
        await client.post(f"/{other}/{movie.id}", headers=user.headers)
        page = (await client.get(f"/{path}", headers=user.headers)).json()
        assert page["total_results"] == 0 and page["results"] == []

    async def test_anonymous_returns_401(self, client: AsyncClient, path: str) -> None:
        assert (await client.get(f"/{path}")).status_code == 401


class TestAccountState:
    async def test_fresh_state_is_all_false_and_no_rating(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        response = await client.get(f"/movies/{movie.id}/account-state", headers=user.headers)
        assert response.status_code == 200
        assert response.json() == {"watchlist": False, "favorite": False, "rating": None}

    async def test_state_reflects_lists_and_rating(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        await client.post(f"/watchlist/{movie.id}", headers=user.headers)
        await client.post(f"/reviews/{movie.id}", json={"rating": 7.5}, headers=user.headers)
        response = await client.get(f"/movies/{movie.id}/account-state/", headers=user.headers)
        assert response.json() == {"watchlist": True, "favorite": False, "rating": 7.5}

    async def test_anonymous_returns_401(self, client: AsyncClient, movie: Movie) -> None:
        assert (await client.get(f"/movies/{movie.id}/account-state")).status_code == 401

    async def test_unknown_movie_returns_404(self, client: AsyncClient, user: Account) -> None:
        assert (
            await client.get("/movies/999999999/account-state", headers=user.headers)
        ).status_code == 404


class TestListCascades:
    async def test_deleting_a_movie_removes_its_list_entries(
        self, client: AsyncClient, db: AsyncSession, user: Account, admin: Account, movie: Movie
    ) -> None:
        await client.post(f"/favorites/{movie.id}", headers=user.headers)
        assert (
            await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        ).status_code == 204
        assert await entries(db, user.id, movie.id) == 0  # type: ignore[arg-type]

    async def test_deleting_a_user_removes_their_list_entries(
        self, client: AsyncClient, db: AsyncSession, user: Account, movie: Movie
    ) -> None:
        await client.post(f"/watchlist/{movie.id}", headers=user.headers)
        await db.execute(delete(User).where(User.id == user.id))  # type: ignore[arg-type]
        await db.commit()
        assert await entries(db, user.id, movie.id) == 0  # type: ignore[arg-type]


@pytest.fixture
async def world(app: Any) -> AsyncIterator[tuple[Committed, AsyncClient]]:
    async with committed_world(app) as pair:
        yield pair


RACERS = 20


class TestConcurrentAdds:
    @pytest.mark.parametrize("path", LISTS)
    async def test_twenty_simultaneous_adds_by_one_user_make_one_entry(
        self, world: tuple[Committed, AsyncClient], path: str
    ) -> None:
        rows, http = world
        movie_id = await rows.movie()
        [headers] = await rows.users(1)
        responses = await asyncio.gather(
            *(http.post(f"/{path}/{movie_id}", headers=headers) for _ in range(RACERS))
        )
        assert sorted(r.status_code for r in responses) == [200] * (RACERS - 1) + [201]
        assert len({r.json()["added_at"] for r in responses}) == 1
        async with rows.sessionmaker() as session:
            listed = (
                select(func.count()).select_from(ListEntry).where(ListEntry.movie_id == movie_id)
            )
            assert (await session.execute(listed)).scalar_one() == 1
            acts = (
                select(func.count())
                .select_from(MovieActivity)
                .where(MovieActivity.movie_id == movie_id)
            )
            assert (await session.execute(acts)).scalar_one() == 1
