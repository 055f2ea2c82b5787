"""The audit trail: an entry per admin write with its exact diff, in the write's transaction;
none for a refused write; GET /admin/audit with its filters, pages and access."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from typer.testing import CliRunner

from api.audit import service as audit
from api.audit.models import AuditEntry
from api.main import create_app
from api.settings import Settings, get_settings
from api.users import service as users
from api.users.models import User
from tests.api.committed import Committed, committed_world
from tests.api.conftest import Catalog, unique
from tests.api.test_accounts import remove_user, user_by_email
from tests.api.test_preconditions import committed_admin
from tests.conftest import PASSWORD_HASH, Account, MakeAccount, migrate

ANY_TIME = datetime(2020, 1, 1, tzinfo=UTC)


async def entries(db: AsyncSession, resource: str, resource_id: int) -> list[AuditEntry]:
    """The entries of one resource, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(col(AuditEntry.resource) == resource, col(AuditEntry.resource_id) == resource_id)
        .order_by(col(AuditEntry.id))
    )
    return list((await db.execute(stmt)).scalars())


async def entries_by(db: AsyncSession, user_id: int) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(col(AuditEntry.user_id) == user_id)
    return list((await db.execute(stmt)).scalars())


async def only_entry(db: AsyncSession, resource: str, resource_id: int) -> AuditEntry:
    found = await entries(db, resource, resource_id)
    assert len(found) == 1, [e.changes for e in found]
    return found[0]


def assert_by(entry: AuditEntry, admin: Account, action: str) -> None:
    assert (entry.user_id, entry.user_email) == (admin.id, admin.user.email)
    assert (entry.source, entry.action) == ("api", action)
    assert entry.at >= ANY_TIME


class TestMovieWrites:
    async def test_create_records_the_stored_values(
        self, client: AsyncClient, db: AsyncSession, admin: Account
    ) -> None:
        genre, actor, director = unique("Genre"), unique("Actor"), unique("Director")
        body = {
            "title": "Audited",
            "overview": "A test.",
            "release_date": "2001-02-03",
            "runtime": 101,
            "genres": [genre],
            "cast": [{"name": actor, "character": "Hero"}],
            "directors": [{"name": director}],
        }
        response = await client.post("/movies", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        movie = response.json()
        entry = await only_entry(db, "movie", movie["id"])
        assert_by(entry, admin, "create")
        assert entry.changes == {
            "title": {"new": "Audited"},
            "original_title": {"new": "Audited"},
            "overview": {"new": "A test."},
            "release_date": {"new": "2001-02-03"},
            "runtime": {"new": 101},
            "genres": {"new": [{"id": movie["genres"][0]["id"], "name": genre}]},
            "cast": {
                "new": [
                    {"id": movie["cast"][0]["id"], "name": actor, "character": "Hero", "order": 0}
                ]
            },
            "directors": {"new": [{"id": movie["directors"][0]["id"], "name": director}]},
        }

    async def test_update_records_only_the_changed_fields_with_old_and_new(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Before", runtime=90, overview="Old text.")
        body = {"title": "After", "runtime": 90, "overview": "New text.", "budget": 5_000_000}
        response = await client.patch(f"/movies/{movie.id}", json=body, headers=admin.headers)
        assert response.status_code == 200, response.text
        entry = await only_entry(db, "movie", movie.id)  # type: ignore[arg-type]
        assert_by(entry, admin, "update")
        assert entry.changes == {
            "title": {"old": "Before", "new": "After"},
            "overview": {"old": "Old text.", "new": "New text."},
            "budget": {"old": None, "new": 5_000_000},
        }

    async def test_update_of_relations_records_both_lists(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        old_genre, new_genre = await catalog.genre(), await catalog.genre()
        star = await catalog.person()
        movie = await catalog.movie(genres=[old_genre], cast=[star])
        body = {"genres": [new_genre.id], "cast": [{"person_id": star.id, "character": "Lead"}]}
        response = await client.put(f"/movies/{movie.id}", json=body, headers=admin.headers)
        assert response.status_code == 200, response.text
        entry = await only_entry(db, "movie", movie.id)  # type: ignore[arg-type]
        credit = {"id": star.id, "name": star.name, "order": 0}
        assert entry.changes == {
            "genres": {
                "old": [{"id": old_genre.id, "name": old_genre.name}],
                "new": [{"id": new_genre.id, "name": new_genre.name}],
            },
            "cast": {
                "old": [{**credit, "character": None}],
                "new": [{**credit, "character": "Lead"}],
            },
        }

    async def test_a_conditional_update_records_its_entry_after_the_check(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Checked")
        etag = (await client.get(f"/movies/{movie.id}")).headers["etag"]
        headers = {**admin.headers, "If-Match": etag}
        response = await client.patch(f"/movies/{movie.id}", json={"title": "Ok"}, headers=headers)
        assert response.status_code == 200, response.text
        entry = await only_entry(db, "movie", movie.id)  # type: ignore[arg-type]
        assert entry.changes == {"title": {"old": "Checked", "new": "Ok"}}

    async def test_an_update_changing_nothing_records_an_empty_diff(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Same")
        response = await client.put(
            f"/movies/{movie.id}", json={"title": "Same"}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert (await only_entry(db, "movie", movie.id)).changes == {}  # type: ignore[arg-type]

    async def test_a_long_overview_is_stored_whole(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(overview="short")
        overview = "word " * 1_999 + "end"  # 9,998 characters: near the schema's 10,000
        response = await client.patch(
            f"/movies/{movie.id}", json={"overview": overview}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        entry = await only_entry(db, "movie", movie.id)  # type: ignore[arg-type]
        assert entry.changes == {"overview": {"old": "short", "new": overview}}

    async def test_delete_records_the_old_values(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        genre, star = await catalog.genre(), await catalog.person()
        movie = await catalog.movie(title="Doomed", genres=[genre], cast=[star], runtime=88)
        response = await client.delete(f"/movies/{movie.id}", headers=admin.headers)
        assert response.status_code == 204, response.text
        entry = await only_entry(db, "movie", movie.id)  # type: ignore[arg-type]
        assert_by(entry, admin, "delete")
        changes = entry.changes
        assert all(set(change) == {"old"} for change in changes.values()), changes
        assert changes["title"] == {"old": "Doomed"}
        assert changes["runtime"] == {"old": 88}
        assert changes["genres"] == {"old": [{"id": genre.id, "name": genre.name}]}
        cast = [{"id": star.id, "name": star.name, "character": None, "order": 0}]
        assert changes["cast"] == {"old": cast}
        assert "tagline" not in changes, "fields that had no value are left out"


class TestRefusedWritesLeaveNoEntry:
    async def test_invalid_body_422(
        self, client: AsyncClient, db: AsyncSession, admin: Account
    ) -> None:
        response = await client.post("/movies", json={"title": ""}, headers=admin.headers)
        assert response.status_code == 422
        assert await entries_by(db, admin.id) == []

    async def test_422_after_part_of_the_change_was_made(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Kept")
        # The title is set, then the unknown genre refuses the write.
        body = {"title": "Half done", "genres": [2**31 - 2]}
        response = await client.patch(f"/movies/{movie.id}", json=body, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert await entries(db, "movie", movie.id) == []  # type: ignore[arg-type]
        assert (await client.get(f"/movies/{movie.id}")).json()["title"] == "Kept"

    async def test_unknown_movie_and_person_404(
        self, client: AsyncClient, db: AsyncSession, admin: Account
    ) -> None:
        missing = 2**31 - 3
        edits = [(f"/movies/{missing}", {"title": "x"}), (f"/people/{missing}", {"name": "x"})]
        for path, body in edits:
            response = await client.patch(path, json=body, headers=admin.headers)
            assert response.status_code == 404, response.text
        assert (await client.delete(f"/movies/{missing}", headers=admin.headers)).status_code == 404
        assert await entries_by(db, admin.id) == []

    async def test_stale_if_match_412(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Guarded")
        headers = {**admin.headers, "If-Match": '"stale"'}
        for send in (client.put, client.patch):
            response = await send(f"/movies/{movie.id}", json={"title": "Lost"}, headers=headers)
            assert response.status_code == 412, response.text
        assert (await client.delete(f"/movies/{movie.id}", headers=headers)).status_code == 412
        person = await catalog.person()
        response = await client.patch(f"/people/{person.id}", json={"gender": 2}, headers=headers)
        assert response.status_code == 412, response.text
        assert await entries_by(db, admin.id) == []

    async def test_non_admin_403(
        self, client: AsyncClient, db: AsyncSession, user: Account, catalog: Catalog
    ) -> None:
        movie, person = await catalog.movie(), await catalog.person()
        writes = [
            client.post("/movies", json={"title": "Nope"}, headers=user.headers),
            client.patch(f"/movies/{movie.id}", json={"title": "Nope"}, headers=user.headers),
            client.delete(f"/movies/{movie.id}", headers=user.headers),
            client.patch(f"/people/{person.id}", json={"name": "Nope"}, headers=user.headers),
        ]
        for write in writes:
            assert (await write).status_code == 403
        assert await entries_by(db, user.id) == []
        assert await entries(db, "movie", movie.id) == []  # type: ignore[arg-type]


class TestPeopleAndReviews:
    async def test_person_edit_records_the_changed_fields(
        self, client: AsyncClient, db: AsyncSession, admin: Account, catalog: Catalog
    ) -> None:
        person = await catalog.person(name="Old Name", profile_path="/same.jpg")
        body = {"name": "New Name", "gender": 1, "profile_path": "/same.jpg"}
        response = await client.patch(f"/people/{person.id}", json=body, headers=admin.headers)
        assert response.status_code == 200, response.text
        entry = await only_entry(db, "person", person.id)  # type: ignore[arg-type]
        assert_by(entry, admin, "update")
        assert entry.changes == {
            "name": {"old": "Old Name", "new": "New Name"},
            "gender": {"old": 0, "new": 1},
        }

    async def test_admin_removing_a_users_review_is_recorded(
        self, client: AsyncClient, db: AsyncSession, admin: Account, user: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        posted = await client.post(
            f"/reviews/{movie.id}", json={"rating": 7.5, "content": "Fine."}, headers=user.headers
        )
        assert posted.status_code == 201, posted.text
        review = posted.json()
        removed = await client.delete(
            f"/reviews/{movie.id}?user_id={user.id}", headers=admin.headers
        )
        assert removed.status_code == 204, removed.text
        entry = await only_entry(db, "review", review["id"])
        assert_by(entry, admin, "delete")
        assert entry.changes == {
            "movie_id": {"old": movie.id},
            "user_id": {"old": user.id},
            "rating": {"old": 7.5},
            "content": {"old": "Fine."},
            "created_at": {"old": review["created_at"]},
        }

    async def test_removing_ones_own_review_is_not_an_admin_write(
        self, client: AsyncClient, db: AsyncSession, admin: Account, user: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie()
        for account in (user, admin):
            body = {"rating": 5}
            posted = await client.post(f"/reviews/{movie.id}", json=body, headers=account.headers)
            assert posted.status_code == 201, posted.text
            own = f"/reviews/{movie.id}?user_id={account.id}"
            assert (await client.delete(own, headers=account.headers)).status_code == 204
        assert await entries_by(db, user.id) == [] and await entries_by(db, admin.id) == []


class TestAdminAccounts:
    async def test_creating_an_admin_records_it_without_the_password(
        self, db: AsyncSession
    ) -> None:
        email = f"boot-{uuid.uuid4().hex[:10]}@example.com"
        made = await users.ensure_admin(db, email, "admin password", audit.STARTUP)
        entry = await only_entry(db, "user", made.id)  # type: ignore[arg-type]
        assert (entry.user_id, entry.user_email, entry.source) == (None, None, "startup")
        assert entry.action == "create"
        assert entry.changes == {
            "email": {"new": email},
            "display_name": {"new": "admin"},
            "is_admin": {"new": True},
            "password": {"new": audit.REDACTED},
        }

    async def test_promoting_records_what_changed(
        self, db: AsyncSession, make_account: MakeAccount
    ) -> None:
        account = await make_account()
        await users.ensure_admin(db, account.user.email, "password123", audit.CLI)
        entry = await only_entry(db, "user", account.id)
        assert (entry.source, entry.action) == ("cli", "update")
        # The account's password already was "password123": only the promotion is a change.
        assert entry.changes == {"is_admin": {"old": False, "new": True}}

    async def test_a_new_password_for_an_admin_is_recorded_redacted(
        self, db: AsyncSession, admin: Account
    ) -> None:
        await users.ensure_admin(db, admin.user.email, "another password", audit.CLI)
        redacted = {"old": audit.REDACTED, "new": audit.REDACTED}
        assert (await only_entry(db, "user", admin.id)).changes == {"password": redacted}

    async def test_an_admin_left_as_is_records_nothing(
        self, db: AsyncSession, admin: Account
    ) -> None:
        await users.ensure_admin(db, admin.user.email, "password123", audit.STARTUP)
        assert await entries(db, "user", admin.id) == []


async def committed_entries(engine: AsyncEngine, user_id: int) -> list[AuditEntry]:
    async with AsyncSession(engine) as session:
        return await entries(session, "user", user_id)


async def forget(engine: AsyncEngine, email: str) -> None:
    """Remove the account and its entries, committed by the operator's command."""
    user = await user_by_email(engine, email)
    if user is not None:
        async with engine.begin() as conn:
            resource = (col(AuditEntry.resource) == "user") & (
                col(AuditEntry.resource_id) == user.id
            )
            await conn.execute(delete(AuditEntry).where(resource))
    await remove_user(engine, email)


class TestOperatorCommitsItsEntry:
    """The start-up bootstrap and `marquee create-admin` commit for real: each test removes its
    account and entries."""

    async def test_the_start_up_bootstrap(self, settings: Settings, engine: AsyncEngine) -> None:
        email = f"boot-{uuid.uuid4().hex[:10]}@example.com"
        update = {"ADMIN_EMAIL": email, "ADMIN_PASSWORD": "start-up password"}
        try:
            for _ in range(2):  # the second start changes nothing: no second entry
                app = create_app(settings.model_copy(update=update))
                async with app.router.lifespan_context(app):
                    pass
            made = await user_by_email(engine, email)
            assert made is not None and made.id is not None
            [entry] = await committed_entries(engine, made.id)
            assert (entry.source, entry.action, entry.user_id) == ("startup", "create", None)
            assert entry.changes["email"] == {"new": email}
        finally:
            await forget(engine, email)

    async def test_create_admin_command(
        self, settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from worker.cli import app as cli

        monkeypatch.setenv("DATABASE_URL", settings.DATABASE_URL)
        get_settings.cache_clear()
        email = f"cli-{uuid.uuid4().hex[:10]}@example.com"
        async with AsyncSession(engine) as session:
            fields = {"email": email, "password_hash": PASSWORD_HASH, "display_name": "Op"}
            session.add(User.model_validate(fields))
            await session.commit()
        try:
            args = ["create-admin", "--email", email, "--password", "operator password"]
            result = await asyncio.to_thread(CliRunner().invoke, cli, args)
            assert result.exit_code == 0, result.output
            made = await user_by_email(engine, email)
            assert made is not None and made.id is not None
            [entry] = await committed_entries(engine, made.id)
            assert (entry.source, entry.action, entry.user_id) == ("cli", "update", None)
            redacted = {"old": audit.REDACTED, "new": audit.REDACTED}
            assert entry.changes == {"is_admin": {"old": False, "new": True}, "password": redacted}
        finally:
            get_settings.cache_clear()
            await forget(engine, email)


@pytest.fixture
async def world(app: Any) -> AsyncIterator[tuple[Committed, AsyncClient]]:
    async with committed_world(app) as (rows, http):
        yield rows, http
        async with rows.sessionmaker() as session:
            await session.execute(
                delete(AuditEntry).where(col(AuditEntry.resource_id).in_(rows.movie_ids))
            )
            await session.commit()


class TestOneTransaction:
    """On connections of their own, with data committed for real."""

    async def test_a_failure_after_recording_leaves_neither_the_write_nor_its_entry(
        self, world: tuple[Committed, AsyncClient], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rows, http = world
        headers = await committed_admin(rows)
        movie_id = await rows.movie()
        before = (await rows.reload(movie_id)).title

        def fail(*_: Any, **__: Any) -> None:  # after the service wrote and recorded
            raise RuntimeError("the answer could not be built")

        monkeypatch.setattr("api.movies.router.tagged", fail)
        with pytest.raises(RuntimeError):
            await http.patch(f"/movies/{movie_id}", json={"title": "Never"}, headers=headers)
        async with rows.sessionmaker() as session:
            assert await entries(session, "movie", movie_id) == []
        assert (await rows.reload(movie_id)).title == before

    async def test_a_committed_write_has_its_committed_entry(
        self, world: tuple[Committed, AsyncClient]
    ) -> None:
        rows, http = world
        headers = await committed_admin(rows)
        movie_id = await rows.movie()
        before = (await rows.reload(movie_id)).title
        response = await http.patch(f"/movies/{movie_id}", json={"title": "Now"}, headers=headers)
        assert response.status_code == 200, response.text
        async with rows.sessionmaker() as session:
            [entry] = await entries(session, "movie", movie_id)
        assert entry.changes == {"title": {"old": before, "new": "Now"}}


def changes_of(size: int) -> list[dict[str, Any]]:
    return [
        {"id": n, "name": f"Person {n}", "character": "x" * 400, "order": n} for n in range(size)
    ]


class TestEntrySize:
    def test_a_long_list_keeps_its_first_items_and_counts_the_rest(self) -> None:
        cast = changes_of(500)  # the schema's largest cast, with long character names
        change = audit.created({"cast": cast})["cast"]
        kept = change["new"]
        assert kept == cast[: len(kept)]
        assert change["new_omitted"] == 500 - len(kept) > 0
        assert len(json.dumps(kept)) <= audit.MAX_LIST_CHARS

    def test_a_short_list_is_kept_whole(self) -> None:
        cast = changes_of(3)
        assert audit.updated({"cast": []}, {"cast": cast}) == {"cast": {"old": [], "new": cast}}


async def recorded(db: AsyncSession, at: list[datetime], **fields: Any) -> tuple[int, list[int]]:
    """Entries at these times by a made-up author (entries keep no link to an account):
    the author's id and the entries' ids, in the order given."""
    author = 1_000_000_000 + uuid.uuid4().int % 1_000_000_000
    made = []
    for n, moment in enumerate(at):
        values = {"user_id": author, "user_email": "a@example.com", "source": "api"}
        values |= {"action": "update", "resource": "movie", "resource_id": n + 1, "at": moment}
        made.append(AuditEntry.model_validate({**values, **fields, "changes": {"n": {"new": n}}}))
    db.add_all(made)
    await db.commit()
    return author, [e.id for e in made if e.id is not None]


def day(month: int, year: int = 2001) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


class TestListing:
    async def test_newest_first_with_every_field(
        self, client: AsyncClient, admin: Account, catalog: Catalog
    ) -> None:
        movie = await catalog.movie(title="Listed")
        for title in ("One", "Two"):
            edit = await client.patch(
                f"/movies/{movie.id}", json={"title": title}, headers=admin.headers
            )
            assert edit.status_code == 200, edit.text
        params = {"user_id": admin.id}
        response = await client.get("/admin/audit/", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        envelope = {k: v for k, v in page.items() if k != "results"}
        assert envelope == {"page": 1, "per_page": 20, "total_results": 2, "total_pages": 1}
        newest, oldest = page["results"]
        assert newest["id"] > oldest["id"] and newest["at"] >= oldest["at"]
        assert newest["at"].endswith("Z")
        assert {k: v for k, v in newest.items() if k not in ("id", "at")} == {
            "user_id": admin.id,
            "user_email": admin.user.email,
            "source": "api",
            "action": "update",
            "resource": "movie",
            "resource_id": movie.id,
            "changes": {"title": {"old": "One", "new": "Two"}},
        }
        assert oldest["changes"] == {"title": {"old": "Listed", "new": "One"}}

    async def test_pages(self, client: AsyncClient, db: AsyncSession, admin: Account) -> None:
        author, made = await recorded(db, [day(m) for m in range(1, 6)])
        seen = []
        for number in (1, 2, 3, 4):
            params = {"user_id": author, "per_page": 2, "page": number}
            page = (await client.get("/admin/audit", params=params, headers=admin.headers)).json()
            assert (page["total_results"], page["total_pages"]) == (5, 3)
            seen.append([entry["id"] for entry in page["results"]])
        newest = made[::-1]
        assert seen == [newest[0:2], newest[2:4], newest[4:], []]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"resource": "person"}, [3]),
            ({"resource": "movie", "resource_id": 2}, [1]),
            ({"action": "delete"}, [2]),
            ({"at.gte": "2001-03-01T00:00:00Z"}, [3, 2]),
            ({"at.lte": "2001-02-01T00:00:00+00:00"}, [1, 0]),
            ({"at.gte": "2001-02-01T00:00:00", "at.lte": "2001-03-01"}, [2, 1]),  # UTC
        ],
    )
    async def test_filters(
        self,
        client: AsyncClient,
        db: AsyncSession,
        admin: Account,
        query: dict[str, Any],
        expected: list[int],
    ) -> None:
        author, made = await recorded(db, [day(1), day(2)])
        [deleted] = (await recorded(db, [day(3)], user_id=author, action="delete"))[1]
        [person] = (await recorded(db, [day(4)], user_id=author, resource="person"))[1]
        made += [deleted, person]
        params = {"user_id": author, **query}
        response = await client.get("/admin/audit", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        assert [entry["id"] for entry in response.json()["results"]] == [made[i] for i in expected]

    async def test_an_unknown_resource_is_422(self, client: AsyncClient, admin: Account) -> None:
        response = await client.get(
            "/admin/audit", params={"resource": "planet"}, headers=admin.headers
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    async def test_never_cached(self, client: AsyncClient, admin: Account) -> None:
        response = await client.get("/admin/audit", headers=admin.headers)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers

    async def test_a_non_admin_gets_403(self, client: AsyncClient, user: Account) -> None:
        response = await client.get("/admin/audit", headers=user.headers)
        assert response.status_code == 403
        assert response.json()["code"] == "admin_required"

    async def test_anonymous_gets_401(self, client: AsyncClient) -> None:
        response = await client.get("/admin/audit/")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


class TestSqlitePath:
    """`make run` serves from SQLite: the JSON diffs and the time filter work there too."""

    async def test_entries_and_listing(self, settings: Settings, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
        await migrate(url)
        start = datetime.now(UTC).isoformat()
        admin = {"ADMIN_EMAIL": "admin@example.com", "ADMIN_PASSWORD": "sqlite password"}
        app = create_app(settings.model_copy(update={"DATABASE_URL": url, **admin}))
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http,
        ):
            form = {"username": admin["ADMIN_EMAIL"], "password": admin["ADMIN_PASSWORD"]}
            signed_in = await http.post("/auth/token", data=form)
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            body = {"title": "Café 🎬", "release_date": "2021-05-04"}
            movie = (await http.post("/movies", json=body, headers=headers)).json()
            patch = {"title": "Plain"}
            assert (
                await http.patch(f"/movies/{movie['id']}", json=patch, headers=headers)
            ).status_code == 200
            listed = await http.get("/admin/audit", params={"at.gte": start}, headers=headers)
        entries = listed.json()["results"]
        assert [(e["source"], e["action"], e["resource"]) for e in entries] == [
            ("api", "update", "movie"),
            ("api", "create", "movie"),
            ("startup", "create", "user"),
        ]
        assert entries[0]["changes"] == {"title": {"old": "Café 🎬", "new": "Plain"}}
        assert entries[1]["changes"] == {
            "title": {"new": "Café 🎬"},
            "original_title": {"new": "Café 🎬"},
            "release_date": {"new": "2021-05-04"},
        }
