"""Reviews and ratings: the endpoints, the movie's vote arithmetic, cascades and races."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.movies.models import Movie
from api.outbox import SearchOutbox
from api.reviews.models import Review
from api.reviews.service import remove_user_reviews
from api.trending.models import MovieActivity
from api.users.models import User
from tests.api.committed import Committed, committed_world
from tests.api.conftest import Catalog
from tests.conftest import Account, MakeAccount

# What differs between two reviews with the same rating and content.
PER_REVIEW = {"id", "user_id", "display_name", "created_at", "updated_at"}


@pytest.fixture
async def movie(catalog: Catalog) -> Movie:
    return await catalog.movie(vote_average=7.0, vote_count=3)


async def rate(client: AsyncClient, who: Account, movie_id: int, rating: Any, **body: Any) -> Any:
    return await client.post(
        f"/reviews/{movie_id}", json={"rating": rating, **body}, headers=who.headers
    )


async def votes(client: AsyncClient, movie_id: int) -> tuple[float, int]:
    body = (await client.get(f"/movies/{movie_id}")).json()
    return body["vote_average"], body["vote_count"]


class TestCreateReview:
    async def test_rating_with_content_returns_201_and_the_review(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        response = await rate(client, user, movie.id, 8.5, content="Great\n  <b>fun</b> ")  # type: ignore[arg-type]
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["rating"] == 8.5
        assert body["content"] == "Great\n  <b>fun</b> "
        assert body["movie_id"] == movie.id
        assert body["user_id"] == user.id
        assert body["display_name"] == user.user.display_name

    async def test_trailing_slash_answers_the_same(
        self, client: AsyncClient, make_account: MakeAccount, movie: Movie
    ) -> None:
        answers = []
        for path in (f"/reviews/{movie.id}", f"/reviews/{movie.id}/"):
            who = await make_account()
            response = await client.post(path, json={"rating": 6}, headers=who.headers)
            assert response.status_code == 201, response.text
            answer = response.json()
            assert (answer["user_id"], answer["movie_id"]) == (who.id, movie.id)
            answers.append({k: v for k, v in answer.items() if k not in PER_REVIEW})
        assert answers[0] == answers[1]

    async def test_second_review_by_same_user_returns_409(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 6)  # type: ignore[arg-type]
        response = await rate(client, user, movie.id, 7)  # type: ignore[arg-type]
        assert response.status_code == 409
        assert response.json()["code"] == "review_exists"

    async def test_anonymous_returns_401(self, client: AsyncClient, movie: Movie) -> None:
        response = await client.post(f"/reviews/{movie.id}", json={"rating": 5})
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"

    async def test_unknown_movie_returns_404(self, client: AsyncClient, user: Account) -> None:
        response = await rate(client, user, 999_999_999, 5)
        assert response.status_code == 404
        assert response.json()["code"] == "movie_not_found"

    @pytest.mark.parametrize("rating", [0, 10.5, 7.3, -1, 0.25, "7", True, None, [5]])
    async def test_bad_rating_returns_422_with_the_envelope(
        self, client: AsyncClient, user: Account, movie: Movie, rating: Any
    ) -> None:
        response = await rate(client, user, movie.id, rating)  # type: ignore[arg-type]
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "validation_error"
        assert body["errors"][0]["loc"][-1] == "rating"

    @pytest.mark.parametrize("raw", ["NaN", "1e999", "-Infinity"])
    async def test_non_finite_rating_returns_422(
        self, client: AsyncClient, user: Account, movie: Movie, raw: str
    ) -> None:
        headers = {**user.headers, "Content-Type": "application/json"}
        response = await client.post(
            f"/reviews/{movie.id}", content=f'{{"rating": {raw}}}', headers=headers
        )
        assert response.status_code == 422

    @pytest.mark.parametrize("rating", [0.5, 1, 7.5, 10])
    async def test_ratings_on_the_half_step_scale_are_accepted(
        self, client: AsyncClient, user: Account, movie: Movie, rating: float
    ) -> None:
        assert (await rate(client, user, movie.id, rating)).status_code == 201  # type: ignore[arg-type]

    async def test_missing_rating_returns_422(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        response = await client.post(
            f"/reviews/{movie.id}", json={"content": "hi"}, headers=user.headers
        )
        assert response.status_code == 422

    async def test_content_over_10000_characters_returns_422(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        response = await rate(client, user, movie.id, 5, content="x" * 10_001)  # type: ignore[arg-type]
        assert response.status_code == 422
        assert (await rate(client, user, movie.id, 5, content="é" * 10_000)).status_code == 201  # type: ignore[arg-type]

    async def test_review_records_activity_and_an_index_change(
        self, client: AsyncClient, db: AsyncSession, user: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 5, content="words")  # type: ignore[arg-type]
        kinds = (
            await db.execute(select(MovieActivity.kind).where(MovieActivity.movie_id == movie.id))
        ).scalars()
        assert list(kinds) == ["review"]
        outbox = select(func.count()).where(SearchOutbox.movie_id == movie.id)
        assert (await db.execute(outbox)).scalar_one() >= 1


class TestUpdateReview:
    async def test_edit_changes_rating_and_content(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 6, content="ok")  # type: ignore[arg-type]
        response = await client.put(
            f"/reviews/{movie.id}", json={"rating": 9}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["rating"] == 9
        assert response.json()["content"] == "ok"
        response = await client.put(
            f"/reviews/{movie.id}", json={"content": None}, headers=user.headers
        )
        assert response.json()["content"] is None

    async def test_edit_without_a_review_returns_404(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        response = await client.put(
            f"/reviews/{movie.id}", json={"rating": 9}, headers=user.headers
        )
        assert response.status_code == 404
        assert response.json()["code"] == "review_not_found"

    async def test_edit_cannot_reach_another_users_review(
        self, client: AsyncClient, make_account: MakeAccount, movie: Movie
    ) -> None:
        author, other = await make_account(), await make_account()
        await rate(client, author, movie.id, 6)  # type: ignore[arg-type]
        response = await client.put(
            f"/reviews/{movie.id}", json={"rating": 1}, headers=other.headers
        )
        assert response.status_code == 404
        assert await votes(client, movie.id) == (pytest.approx(27 / 4), 4)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "body", [{}, {"rating": None}, {"rating": 7.3}, {"rating": "8"}, {"extra": 1}]
    )
    async def test_bad_edit_returns_422(
        self, client: AsyncClient, user: Account, movie: Movie, body: dict[str, Any]
    ) -> None:
        await rate(client, user, movie.id, 6)  # type: ignore[arg-type]
        response = await client.put(f"/reviews/{movie.id}", json=body, headers=user.headers)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    async def test_anonymous_edit_returns_401(self, client: AsyncClient, movie: Movie) -> None:
        assert (await client.put(f"/reviews/{movie.id}", json={"rating": 5})).status_code == 401


class TestDeleteReview:
    async def test_author_deletes_own_review_with_204(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 6)  # type: ignore[arg-type]
        response = await client.delete(f"/reviews/{movie.id}", headers=user.headers)
        assert response.status_code == 204
        page = (await client.get(f"/movies/{movie.id}/reviews")).json()
        assert page["total_results"] == 0

    async def test_deleting_a_missing_review_returns_404(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        assert (
            await client.delete(f"/reviews/{movie.id}", headers=user.headers)
        ).status_code == 404

    async def test_admin_removes_someone_elses_review(
        self, client: AsyncClient, user: Account, admin: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 10)  # type: ignore[arg-type]
        response = await client.delete(
            f"/reviews/{movie.id}?user_id={user.id}", headers=admin.headers
        )
        assert response.status_code == 204
        assert await votes(client, movie.id) == (7.0, 3)  # type: ignore[arg-type]

    async def test_non_admin_passing_another_user_id_returns_403(
        self, client: AsyncClient, make_account: MakeAccount, movie: Movie
    ) -> None:
        author, other = await make_account(), await make_account()
        await rate(client, author, movie.id, 6)  # type: ignore[arg-type]
        response = await client.delete(
            f"/reviews/{movie.id}?user_id={author.id}", headers=other.headers
        )
        assert response.status_code == 403
        assert response.json()["code"] == "not_your_review"

    async def test_non_admin_passing_own_user_id_is_allowed(
        self, client: AsyncClient, user: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 6)  # type: ignore[arg-type]
        response = await client.delete(
            f"/reviews/{movie.id}?user_id={user.id}", headers=user.headers
        )
        assert response.status_code == 204

    async def test_anonymous_delete_returns_401(self, client: AsyncClient, movie: Movie) -> None:
        assert (await client.delete(f"/reviews/{movie.id}")).status_code == 401

    async def test_bad_user_id_returns_422(
        self, client: AsyncClient, admin: Account, movie: Movie
    ) -> None:
        response = await client.delete(f"/reviews/{movie.id}?user_id=abc", headers=admin.headers)
        assert response.status_code == 422


class TestListMovieReviews:
    async def test_newest_first_with_author_names_and_pagination(
        self, client: AsyncClient, make_account: MakeAccount, movie: Movie
    ) -> None:
        authors = [await make_account() for _ in range(3)]
        for i, author in enumerate(authors):
            await rate(client, author, movie.id, i + 1, content=f"review {i}")  # type: ignore[arg-type]
        page = (await client.get(f"/movies/{movie.id}/reviews?per_page=2")).json()
        assert page["total_results"] == 3 and page["total_pages"] == 2
        assert [r["content"] for r in page["results"]] == ["review 2", "review 1"]
        assert page["results"][0]["display_name"] == authors[2].user.display_name
        assert page["results"][0]["user_id"] == authors[2].id
        rest = (await client.get(f"/movies/{movie.id}/reviews/?per_page=2&page=2")).json()
        assert [r["content"] for r in rest["results"]] == ["review 0"]

    async def test_ties_on_time_break_by_id_desc(
        self, client: AsyncClient, db: AsyncSession, make_account: MakeAccount, movie: Movie
    ) -> None:
        authors = [await make_account() for _ in range(3)]
        for author in authors:
            await rate(client, author, movie.id, 5)  # type: ignore[arg-type]
        same = (
            (await db.execute(select(Review.created_at).where(Review.movie_id == movie.id)))
            .scalars()
            .first()
        )
        for review in (
            await db.execute(select(Review).where(Review.movie_id == movie.id))
        ).scalars():
            review.created_at = same  # type: ignore[assignment]
        await db.commit()
        page = (await client.get(f"/movies/{movie.id}/reviews")).json()
        got = [r["id"] for r in page["results"]]
        assert got == sorted(got, reverse=True)

    async def test_unknown_movie_returns_404(self, client: AsyncClient) -> None:
        response = await client.get("/movies/999999999/reviews")
        assert response.status_code == 404
        assert response.json()["code"] == "movie_not_found"

    async def test_page_past_the_end_is_empty(self, client: AsyncClient, movie: Movie) -> None:
        page = (await client.get(f"/movies/{movie.id}/reviews?page=5")).json()
        assert page["results"] == []


class TestListMyReviews:
    async def test_own_reviews_newest_first_with_movie_titles(
        self, client: AsyncClient, catalog: Catalog, user: Account, make_account: MakeAccount
    ) -> None:
        first, second = await catalog.movie(), await catalog.movie()
        await rate(client, user, first.id, 4)  # type: ignore[arg-type]
        await rate(client, user, second.id, 9, content="best")  # type: ignore[arg-type]
        await rate(client, await make_account(), first.id, 2)  # type: ignore[arg-type]
        page = (await client.get("/users/me/reviews", headers=user.headers)).json()
        assert page["total_results"] == 2
        assert [(r["movie_id"], r["movie_title"]) for r in page["results"]] == [
            (second.id, second.title),
            (first.id, first.title),
        ]

    async def test_anonymous_returns_401(self, client: AsyncClient) -> None:
        assert (await client.get("/users/me/reviews")).status_code == 401


class TestMovieVotes:
    async def test_votes_follow_create_edit_and_delete(
        self, client: AsyncClient, make_account: MakeAccount, movie: Movie
    ) -> None:
        one, two = await make_account(), await make_account()
        await rate(client, one, movie.id, 10)  # type: ignore[arg-type]
        assert await votes(client, movie.id) == (7.75, 4)  # type: ignore[arg-type]  # (21 + 10) / 4
        await rate(client, two, movie.id, 4)  # type: ignore[arg-type]
        assert await votes(client, movie.id) == (7.0, 5)  # type: ignore[arg-type]  # (21 + 14) / 5
        await client.put(f"/reviews/{movie.id}", json={"rating": 9}, headers=two.headers)
        assert await votes(client, movie.id) == (8.0, 5)  # type: ignore[arg-type]  # (21 + 19) / 5
        await client.delete(f"/reviews/{movie.id}", headers=one.headers)
        assert await votes(client, movie.id) == (7.5, 4)  # type: ignore[arg-type]  # (21 + 9) / 4
        await client.delete(f"/reviews/{movie.id}", headers=two.headers)
        assert await votes(client, movie.id) == (7.0, 3)  # type: ignore[arg-type]

    async def test_movie_without_imported_votes_goes_back_to_zero(
        self, client: AsyncClient, catalog: Catalog, user: Account
    ) -> None:
        fresh = await catalog.movie()
        await rate(client, user, fresh.id, 6.5)  # type: ignore[arg-type]
        assert await votes(client, fresh.id) == (6.5, 1)  # type: ignore[arg-type]
        await client.delete(f"/reviews/{fresh.id}", headers=user.headers)
        assert await votes(client, fresh.id) == (0.0, 0)  # type: ignore[arg-type]


class TestCascades:
    async def test_deleting_a_movie_removes_its_reviews(
        self, client: AsyncClient, db: AsyncSession, user: Account, admin: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 5, content="gone soon")  # type: ignore[arg-type]
        assert (
            await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        ).status_code == 204
        left = select(func.count()).select_from(Review).where(Review.movie_id == movie.id)
        assert (await db.execute(left)).scalar_one() == 0
        activity = (
            select(func.count())
            .select_from(MovieActivity)
            .where(MovieActivity.movie_id == movie.id)
        )
        assert (await db.execute(activity)).scalar_one() == 0

    async def test_removing_a_users_reviews_restores_the_movies_votes(
        self, client: AsyncClient, db: AsyncSession, catalog: Catalog, user: Account, movie: Movie
    ) -> None:
        other = await catalog.movie(vote_average=5.0, vote_count=1)
        await rate(client, user, movie.id, 10)  # type: ignore[arg-type]
        await rate(client, user, other.id, 1)  # type: ignore[arg-type]
        assert await remove_user_reviews(db, user.id) == sorted([movie.id, other.id])  # type: ignore[type-var]
        await db.execute(delete(User).where(User.id == user.id))  # type: ignore[arg-type]
        await db.commit()
        assert await votes(client, movie.id) == (7.0, 3)  # type: ignore[arg-type]
        assert await votes(client, other.id) == (5.0, 1)  # type: ignore[arg-type]
        left = select(func.count()).select_from(Review).where(Review.user_id == user.id)
        assert (await db.execute(left)).scalar_one() == 0

    async def test_deleting_a_user_cascades_their_reviews(
        self, client: AsyncClient, db: AsyncSession, user: Account, movie: Movie
    ) -> None:
        await rate(client, user, movie.id, 3)  # type: ignore[arg-type]
        await db.execute(delete(User).where(User.id == user.id))  # type: ignore[arg-type]
        await db.commit()
        page = (await client.get(f"/movies/{movie.id}/reviews")).json()
        assert page["total_results"] == 0


@pytest.fixture
async def world(app: Any) -> AsyncIterator[tuple[Committed, AsyncClient]]:
    async with committed_world(app) as pair:
        yield pair


RACERS = 20


class TestConcurrentRatings:
    async def test_twenty_users_rating_at_once_lose_no_vote(
        self, world: tuple[Committed, AsyncClient]
    ) -> None:
        rows, http = world
        movie_id = await rows.movie(
            base_vote_average=7.0, base_vote_count=3, vote_average=7.0, vote_count=3
        )
        headers = await rows.users(RACERS)
        ratings = [0.5 * (i + 1) for i in range(RACERS)]  # 0.5 .. 10, sum 105

        async def post(h: dict[str, str], r: float) -> int:
            return (
                await http.post(f"/reviews/{movie_id}", json={"rating": r}, headers=h)
            ).status_code

        codes = await asyncio.gather(*(post(h, r) for h, r in zip(headers, ratings, strict=True)))
        assert codes == [201] * RACERS
        movie = await rows.reload(movie_id)
        assert (movie.vote_count, movie.user_rating_count) == (3 + RACERS, RACERS)
        assert movie.vote_average == pytest.approx((21 + 105) / 23)

        async def edit(h: dict[str, str]) -> int:
            return (
                await http.put(f"/reviews/{movie_id}", json={"rating": 10}, headers=h)
            ).status_code

        assert await asyncio.gather(*(edit(h) for h in headers)) == [200] * RACERS
        movie = await rows.reload(movie_id)
        assert movie.vote_average == pytest.approx((21 + 10 * RACERS) / 23)

        async def remove(h: dict[str, str]) -> int:
            return (await http.delete(f"/reviews/{movie_id}", headers=h)).status_code

        assert await asyncio.gather(*(remove(h) for h in headers)) == [204] * RACERS
        movie = await rows.reload(movie_id)
        assert (movie.vote_count, movie.vote_average, movie.user_rating_sum) == (3, 7.0, 0.0)

    async def test_one_user_posting_at_once_gets_one_review_and_409s(
        self, world: tuple[Committed, AsyncClient]
    ) -> None:
        rows, http = world
        movie_id = await rows.movie()
        [headers] = await rows.users(1)

        async def post() -> Any:
            return await http.post(f"/reviews/{movie_id}", json={"rating": 8}, headers=headers)

        responses = await asyncio.gather(*(post() for _ in range(RACERS)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] + [409] * (RACERS - 1)
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"review_exists"}
        movie = await rows.reload(movie_id)
        assert (movie.vote_count, movie.vote_average) == (1, 8.0)
