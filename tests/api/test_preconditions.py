"""Admin edits without lost updates: If-Match on PUT/PATCH/DELETE /movies/{id} and
PATCH /people/{id} (RFC 9110 13.1.1), checked against the row locked in the write's own
transaction."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import col

from api.outbox import SearchOutbox
from api.people.models import Person
from api.preconditions import IfMatch
from api.users.models import User
from api.users.security import create_access_token
from tests.api.committed import Committed, committed_world
from tests.api.conftest import Catalog
from tests.conftest import PASSWORD_HASH, SECRET, Account

# How long a test waits for both racing requests to queue on the row lock.
QUEUE_SECONDS = 20.0


async def etag_of_movie(client: AsyncClient, movie_id: int) -> str:
    response = await client.get(f"/movies/{movie_id}")
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def outbox_rows(db: AsyncSession, movie_id: int) -> int:
    stmt = select(func.count()).where(col(SearchOutbox.movie_id) == movie_id)
    return (await db.execute(stmt)).scalar_one()


def assert_precondition_failed(response: Response) -> None:
    assert response.status_code == 412, response.text
    body = response.json()
    assert body["code"] == "precondition_failed"
    assert "If-Match" in body["detail"]


class TestIfMatchParsing:
    def test_a_listed_strong_tag_matches(self) -> None:
        assert IfMatch.parse('"old", "current"').matches('"current"')

    def test_a_tag_not_listed_does_not_match(self) -> None:
        assert not IfMatch.parse('"old", "older"').matches('"current"')

    def test_a_weak_tag_never_matches(self) -> None:
        assert not IfMatch.parse('W/"current"').matches('"current"')

    def test_a_comma_inside_a_tag_is_part_of_it(self) -> None:
        parsed = IfMatch.parse('"a,b" , "c"')
        assert parsed.tags == frozenset({'"a,b"', '"c"'})

    def test_empty_list_elements_are_skipped(self) -> None:
        assert IfMatch.parse(' , "x",').tags == frozenset({'"x"'})

    def test_a_malformed_field_matches_nothing(self) -> None:
        assert IfMatch.parse('"current", unquoted').tags == frozenset()

    def test_star_matches_any_current_representation(self) -> None:
        assert IfMatch.parse(" * ").matches('"anything"')


class TestConditionalMovieEdits:
    async def test_current_etag_updates_and_answers_the_new_etag(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Before")
        etag = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        headers = {**admin.headers, "If-Match": etag}
        response = await client.put(f"/movies/{movie.id}", json={"title": "After"}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["title"] == "After"
        new = response.headers["etag"]
        assert new != etag
        # The very tag (and bytes) a GET answers now: edits chain without a read between.
        again = await client.get(f"/movies/{movie.id}")
        assert (again.headers["etag"], again.content) == (new, response.content)

    async def test_stale_etag_answers_412_and_changes_nothing(
        self, client: AsyncClient, admin: Account, catalog: Catalog, db: AsyncSession
    ) -> None:
        movie = await catalog.movie(title="Original")
        stale = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        first = await client.patch(
            f"/movies/{movie.id}", json={"title": "First admin's"}, headers=admin.headers
        )
        assert first.status_code == 200, first.text
        outbox = await outbox_rows(db, movie.id)  # type: ignore[arg-type]
        headers = {**admin.headers, "If-Match": stale}
        second = await client.put(
            f"/movies/{movie.id}", json={"title": "Second admin's"}, headers=headers
        )
        assert_precondition_failed(second)
        assert (await client.get(f"/movies/{movie.id}")).json()["title"] == "First admin's"
        assert await outbox_rows(db, movie.id) == outbox  # type: ignore[arg-type]

    async def test_patch_with_stale_etag_answers_412(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(runtime=100)
        headers = {**admin.headers, "If-Match": '"0123456789abcdef0123456789abcdef"'}
        response = await client.patch(f"/movies/{movie.id}", json={"runtime": 90}, headers=headers)
        assert_precondition_failed(response)
        assert (await client.get(f"/movies/{movie.id}")).json()["runtime"] == 100

    async def test_chained_edits_each_use_the_previous_answers_etag(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        etag = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        for runtime in (101, 102, 103):
            headers = {**admin.headers, "If-Match": etag}
            response = await client.patch(
                f"/movies/{movie.id}", json={"runtime": runtime}, headers=headers
            )
            assert response.status_code == 200, response.text
            etag = response.headers["etag"]
        assert (await client.get(f"/movies/{movie.id}")).json()["runtime"] == 103

    async def test_a_list_holding_the_current_etag_proceeds(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        etag = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        headers = {**admin.headers, "If-Match": f'"stale", {etag}'}
        response = await client.patch(f"/movies/{movie.id}", json={"runtime": 77}, headers=headers)
        assert response.status_code == 200, response.text

    async def test_the_weak_form_of_the_current_etag_answers_412(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(runtime=60)
        etag = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        headers = {**admin.headers, "If-Match": f"W/{etag}"}
        response = await client.patch(f"/movies/{movie.id}", json={"runtime": 61}, headers=headers)
        assert_precondition_failed(response)

    async def test_star_proceeds_on_an_existing_movie(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        headers = {**admin.headers, "If-Match": "*"}
        response = await client.patch(f"/movies/{movie.id}", json={"runtime": 5}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["runtime"] == 5

    async def test_without_if_match_the_write_proceeds_and_answers_its_etag(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        response = await client.patch(
            f"/movies/{movie.id}", json={"runtime": 42}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == await etag_of_movie(client, movie.id)  # type: ignore[arg-type]

    async def test_a_missing_movie_answers_404_whatever_the_if_match(
        self, client: AsyncClient, admin: Account
    ) -> None:
        headers = {**admin.headers, "If-Match": "*"}
        response = await client.put("/movies/2147483647", json={"title": "x"}, headers=headers)
        assert response.status_code == 404
        assert response.json()["code"] == "movie_not_found"

    async def test_a_non_admin_gets_403_before_any_precondition(
        self, client: AsyncClient, user: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        headers = {**user.headers, "If-Match": '"stale"'}
        response = await client.put(f"/movies/{movie.id}", json={"title": "x"}, headers=headers)
        assert response.status_code == 403

    async def test_delete_with_stale_etag_answers_412_and_keeps_the_movie(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        stale = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        await client.patch(f"/movies/{movie.id}", json={"runtime": 1}, headers=admin.headers)
        headers = {**admin.headers, "If-Match": stale}
        assert_precondition_failed(await client.delete(f"/movies/{movie.id}", headers=headers))
        assert (await client.get(f"/movies/{movie.id}")).status_code == 200

    async def test_delete_with_current_etag_answers_204(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        etag = await etag_of_movie(client, movie.id)  # type: ignore[arg-type]
        headers = {**admin.headers, "If-Match": etag}
        assert (await client.delete(f"/movies/{movie.id}", headers=headers)).status_code == 204
        assert (await client.get(f"/movies/{movie.id}")).status_code == 404

    async def test_the_created_movie_answers_its_etag(
        self, client: AsyncClient, admin: Account
    ) -> None:
        response = await client.post("/movies", json={"title": "Tagged"}, headers=admin.headers)
        assert response.status_code == 201, response.text
        movie_id = response.json()["id"]
        assert response.headers["etag"] == await etag_of_movie(client, movie_id)


class TestConditionalPersonEdits:
    async def test_current_etag_renames_and_answers_the_new_etag(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        person = await catalog.person(name="Old Name")
        etag = (await client.get(f"/people/{person.id}")).headers["etag"]
        headers = {**admin.headers, "If-Match": etag}
        response = await client.patch(
            f"/people/{person.id}", json={"name": "New Name"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "New Name"
        again = await client.get(f"/people/{person.id}")
        assert again.headers["etag"] == response.headers["etag"] != etag

    async def test_stale_etag_answers_412_and_keeps_the_name(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        person = await catalog.person(name="Kept Name")
        stale = (await client.get(f"/people/{person.id}")).headers["etag"]
        await client.patch(f"/people/{person.id}", json={"gender": 1}, headers=admin.headers)
        headers = {**admin.headers, "If-Match": stale}
        response = await client.patch(
            f"/people/{person.id}", json={"name": "Lost Name"}, headers=headers
        )
        assert_precondition_failed(response)
        assert (await client.get(f"/people/{person.id}")).json()["name"] == "Kept Name"


# -- two admins at once, on separate connections, with data committed for real


@pytest.fixture
async def world(app: Any) -> AsyncIterator[tuple[Committed, AsyncClient]]:
    async with committed_world(app) as pair:
        yield pair


async def committed_admin(rows: Committed) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    fields = {"email": email, "password_hash": PASSWORD_HASH, "display_name": "admin"}
    async with rows.sessionmaker() as session:
        admin = User.model_validate({**fields, "is_admin": True})
        session.add(admin)
        await session.commit()
    assert admin.id is not None
    rows.user_ids.append(admin.id)
    return {"Authorization": f"Bearer {create_access_token(admin.id, SECRET, 60)}"}


async def lock_waits(engine: AsyncEngine) -> int:
    """Connections of this test database inside a locking read (while the holder keeps the
    row, they wait there; innodb_trx's LOCK WAIT state showed only the first of two)."""
    query = text(
        "SELECT COUNT(*) FROM information_schema.processlist"
        " WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE '%FOR UPDATE'"
    )
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def race(
    engine: AsyncEngine, holder: AsyncConnection, *requests: asyncio.Task[Response]
) -> list[Response]:
    """Let `requests` queue on the row `holder` locked, then release it: they meet at the
    lock, as two admins' writes would. Fails if they never both wait there."""
    deadline = time.monotonic() + QUEUE_SECONDS
    while await lock_waits(engine) < len(requests):
        assert time.monotonic() < deadline, "the writes never queued on the row lock"
        assert not any(task.done() for task in requests), [t.result().text for t in requests]
        await asyncio.sleep(0.05)
    await holder.rollback()
    return list(await asyncio.gather(*requests))


class TestConcurrentEdits:
    async def test_two_admins_with_the_same_etag_one_wins_one_gets_412(
        self, app: Any, world: tuple[Committed, AsyncClient]
    ) -> None:
        rows, http = world
        movie_id = await rows.movie()
        first, second = await committed_admin(rows), await committed_admin(rows)
        etag = await etag_of_movie(http, movie_id)
        engine: AsyncEngine = app.state.engine
        async with engine.connect() as holder:
            await holder.execute(
                text("SELECT id FROM movie WHERE id = :id FOR UPDATE"), {"id": movie_id}
            )

            def put(headers: dict[str, str], title: str) -> asyncio.Task[Response]:
                sent = {**headers, "If-Match": etag}
                return asyncio.create_task(
                    http.put(f"/movies/{movie_id}", json={"title": title}, headers=sent)
                )

            answers = await race(engine, holder, put(first, "First"), put(second, "Second"))
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 412], [answer.text for answer in answers]
        [winner] = [answer for answer in answers if answer.status_code == 200]
        assert (await rows.reload(movie_id)).title == winner.json()["title"]
        # The loser may retry with the winner's ETag.
        retry = {**second, "If-Match": winner.headers["etag"]}
        again = await http.put(f"/movies/{movie_id}", json={"title": "Third"}, headers=retry)
        assert again.status_code == 200, again.text

    async def test_two_admins_renaming_a_person_with_the_same_etag_one_gets_412(
        self, app: Any, world: tuple[Committed, AsyncClient]
    ) -> None:
        rows, http = world
        first, second = await committed_admin(rows), await committed_admin(rows)
        async with rows.sessionmaker() as session:
            person = Person.model_validate({"name": f"Racer {uuid.uuid4().hex[:8]}"})
            session.add(person)
            await session.commit()
        engine: AsyncEngine = app.state.engine
        try:
            etag = (await http.get(f"/people/{person.id}")).headers["etag"]
            async with engine.connect() as holder:
                lock = text("SELECT id FROM person WHERE id = :id FOR UPDATE")
                await holder.execute(lock, {"id": person.id})

                def patch(headers: dict[str, str], name: str) -> asyncio.Task[Response]:
                    sent = {**headers, "If-Match": etag}
                    return asyncio.create_task(
                        http.patch(f"/people/{person.id}", json={"name": name}, headers=sent)
                    )

                answers = await race(engine, holder, patch(first, "One"), patch(second, "Two"))
            assert sorted(answer.status_code for answer in answers) == [200, 412]
        finally:
            async with rows.sessionmaker() as session:
                await session.execute(
                    delete(SearchOutbox).where(col(SearchOutbox.person_id) == person.id)
                )
                await session.execute(delete(Person).where(col(Person.id) == person.id))
                await session.commit()
