"""Similar movies: what a fan expects on the TMDB catalog (a franchise's other films first, a
director's other films high), paging, errors, and the score's order on a catalog built here."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.cache import CATALOG
from api.movies.models import CastCredit, Keyword, Movie, MovieDirector, MovieKeyword
from api.people.models import Person
from tests.api.conftest import Catalog, unique

BATMAN_BEGINS, THE_DARK_KNIGHT = 272, 155
FELLOWSHIP, TWO_TOWERS, RETURN_OF_THE_KING = 120, 121, 122
TOY_STORY, TOY_STORY_2, TOY_STORY_3 = 862, 863, 10193
INCEPTION, AVATAR = 27205, 19995
CHRISTOPHER_NOLAN = 525


async def similar(client: AsyncClient, movie_id: int, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/movies/{movie_id}/similar/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def first_ids(client: AsyncClient, movie_id: int, n: int) -> list[int]:
    return [item["id"] for item in (await similar(client, movie_id, per_page=n))["results"]]


async def need(client: AsyncClient, *movie_ids: int) -> None:
    """Skip unless the catalog holds these films (the 300-movie sample lacks some)."""
    for movie_id in movie_ids:
        if (await client.get(f"/movies/{movie_id}")).status_code == 404:
            pytest.skip(f"movie {movie_id} is not in this catalog (the sample, not TMDB 5000)")


class TestFranchisesComeFirst:
    async def test_the_dark_knight_is_in_the_first_five_for_batman_begins(
        self, tmdb_client: AsyncClient
    ) -> None:
        await need(tmdb_client, BATMAN_BEGINS, THE_DARK_KNIGHT)
        assert THE_DARK_KNIGHT in await first_ids(tmdb_client, BATMAN_BEGINS, 5)

    async def test_both_sequels_are_in_the_first_five_for_the_fellowship(
        self, tmdb_client: AsyncClient
    ) -> None:
        await need(tmdb_client, FELLOWSHIP, TWO_TOWERS, RETURN_OF_THE_KING)
        top = await first_ids(tmdb_client, FELLOWSHIP, 5)
        assert {TWO_TOWERS, RETURN_OF_THE_KING} <= set(top), top

    async def test_both_sequels_are_in_the_first_five_for_toy_story(
        self, tmdb_client: AsyncClient
    ) -> None:
        await need(tmdb_client, TOY_STORY, TOY_STORY_2, TOY_STORY_3)
        top = await first_ids(tmdb_client, TOY_STORY, 5)
        assert {TOY_STORY_2, TOY_STORY_3} <= set(top), top

    async def test_nolan_films_lead_for_inception(self, tmdb_client: AsyncClient) -> None:
        await need(tmdb_client, INCEPTION)
        nolan = (await tmdb_client.get(f"/people/{CHRISTOPHER_NOLAN}")).json()
        directed = {c["id"] for c in nolan["movie_credits"]["crew"] if c["job"] == "Director"}
        top = await first_ids(tmdb_client, INCEPTION, 5)
        assert top[0] in directed and len(directed & set(top)) >= 4, top


class TestSimilarPages:
    @pytest.mark.parametrize("movie_id", [BATMAN_BEGINS, FELLOWSHIP, TOY_STORY, INCEPTION, AVATAR])
    async def test_never_the_movie_itself(self, tmdb_client: AsyncClient, movie_id: int) -> None:
        await need(tmdb_client, movie_id)
        body = await similar(tmdb_client, movie_id, per_page=100)
        assert body["results"] and movie_id not in [item["id"] for item in body["results"]]

    async def test_pages_cover_every_candidate_once(self, tmdb_client: AsyncClient) -> None:
        await need(tmdb_client, FELLOWSHIP)
        first = await similar(tmdb_client, FELLOWSHIP, per_page=100)
        seen: list[int] = []
        for page in range(1, first["total_pages"] + 1):
            body = await similar(tmdb_client, FELLOWSHIP, per_page=100, page=page)
            seen += [item["id"] for item in body["results"]]
        assert len(seen) == len(set(seen)) == first["total_results"]
        assert FELLOWSHIP not in seen

    async def test_small_pages_follow_the_same_order(self, tmdb_client: AsyncClient) -> None:
        await need(tmdb_client, AVATAR)
        whole = await first_ids(tmdb_client, AVATAR, 21)
        pages = [await similar(tmdb_client, AVATAR, per_page=7, page=p) for p in (1, 2, 3)]
        assert [item["id"] for body in pages for item in body["results"]] == whole
        assert [body["page"] for body in pages] == [1, 2, 3] and pages[0]["per_page"] == 7

    async def test_items_are_list_items(self, tmdb_client: AsyncClient) -> None:
        await need(tmdb_client, BATMAN_BEGINS)
        item = (await similar(tmdb_client, BATMAN_BEGINS, per_page=1))["results"][0]
        assert {"id", "title", "genres", "poster_url", "popularity", "vote_average"} <= set(item)
        assert item["genres"] and {"id", "name"} == set(item["genres"][0])

    async def test_a_page_past_the_end_is_empty(self, tmdb_client: AsyncClient) -> None:
        await need(tmdb_client, FELLOWSHIP)
        total = (await similar(tmdb_client, FELLOWSHIP))["total_results"]
        body = await similar(tmdb_client, FELLOWSHIP, page=10_000)
        assert body["results"] == [] and body["total_results"] == total

    async def test_with_and_without_trailing_slash_answer_alike(
        self, tmdb_client: AsyncClient
    ) -> None:
        await need(tmdb_client, FELLOWSHIP)
        bare = await tmdb_client.get(f"/movies/{FELLOWSHIP}/similar")
        assert bare.status_code == 200 and bare.json() == await similar(tmdb_client, FELLOWSHIP)

    async def test_an_unknown_movie_is_404(self, tmdb_client: AsyncClient) -> None:
        response = await tmdb_client.get("/movies/2000000000/similar/")
        assert response.status_code == 404 and response.json()["code"] == "movie_not_found"

    @pytest.mark.parametrize(
        "url",
        [
            "/movies/0/similar/",
            "/movies/99999999999/similar/",
            "/movies/120/similar/?page=99999999999",
            "/movies/120/similar/?page=0",
            "/movies/120/similar/?per_page=101",
        ],
    )
    async def test_bad_input_is_422(self, tmdb_client: AsyncClient, url: str) -> None:
        assert (await tmdb_client.get(url)).status_code == 422


class SimilarCatalog(Catalog):
    """The API tests' catalog builder, with the links the score also counts."""

    async def direct(self, person: Person, *movies: Movie) -> None:
        for movie in movies:
            self.db.add(
                MovieDirector.model_validate({"movie_id": movie.id, "person_id": person.id})
            )
        await self._commit()

    async def tag(self, *movies: Movie) -> None:
        """One new keyword on these movies."""
        keyword = Keyword.model_validate({"name": unique("keyword")})
        self.db.add(keyword)
        await self.db.flush()
        for movie in movies:
            self.db.add(
                MovieKeyword.model_validate({"movie_id": movie.id, "keyword_id": keyword.id})
            )
        await self._commit()

    async def bill(self, person: Person, movie: Movie, order: int) -> None:
        credit = {"movie_id": movie.id, "person_id": person.id, "billing_order": order}
        self.db.add(CastCredit.model_validate(credit))
        await self._commit()

    async def _commit(self) -> None:
        await self.db.commit()
        await self._changed([CATALOG])


@pytest.fixture
def catalog(db: AsyncSession, app: Any) -> SimilarCatalog:
    return SimilarCatalog(db, app)


async def similar_to(client: AsyncClient, movie: Movie) -> tuple[list[int | None], int]:
    assert movie.id is not None
    body = await similar(client, movie.id)
    return [item["id"] for item in body["results"]], body["total_results"]


class TestScoreOrder:
    async def test_more_shared_ranks_first_and_ties_go_to_the_more_popular(
        self, client: AsyncClient, catalog: SimilarCatalog
    ) -> None:
        drama, heist = await catalog.genre(), await catalog.genre()
        star, other_star = await catalog.person(), await catalog.person()
        seed = await catalog.movie(genres=[drama, heist], cast=[star, other_star])
        most = await catalog.movie(genres=[drama], cast=[star], popularity=1.0)  # 1 + 2
        popular = await catalog.movie(genres=[drama], popularity=90.0)  # 1
        obscure = await catalog.movie(genres=[heist], popularity=5.0)  # 1
        await catalog.movie(genres=[await catalog.genre()], popularity=99.0)  # nothing shared
        assert await similar_to(client, seed) == ([most.id, popular.id, obscure.id], 3)

    async def test_director_outweighs_keyword_and_actor_which_outweigh_two_actors(
        self, client: AsyncClient, catalog: SimilarCatalog
    ) -> None:
        director, lead, second = [await catalog.person() for _ in range(3)]
        seed = await catalog.movie(cast=[lead, second])
        same_director = await catalog.movie(popularity=1.0)  # 6
        keyword_and_lead = await catalog.movie(cast=[lead], popularity=2.0)  # 3 + 2
        both_actors = await catalog.movie(cast=[lead, second], popularity=3.0)  # 2 + 2
        await catalog.direct(director, seed, same_director)
        await catalog.tag(seed, keyword_and_lead)
        expected = [same_director.id, keyword_and_lead.id, both_actors.id]
        assert await similar_to(client, seed) == (expected, 3)

    async def test_an_actor_billed_past_the_first_ten_does_not_count(
        self, client: AsyncClient, catalog: SimilarCatalog
    ) -> None:
        actor = await catalog.person()
        seed, billed_low = await catalog.movie(), await catalog.movie()
        await catalog.bill(actor, seed, 0)
        await catalog.bill(actor, billed_low, 10)
        assert await similar_to(client, seed) == ([], 0)
