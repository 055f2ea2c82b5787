"""End to end: a write through the API becomes searchable through a real arq worker."""

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from arq.worker import Worker
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete

from api.settings import Settings
from api.users.models import User
from api.users.security import create_access_token
from api.users.service import ensure_admin
from tests.conftest import SECRET
from worker.main import WorkerSettings, drain_outbox
from worker.resources import connect_redis


async def run_worker_burst(settings: Settings, queue: str) -> None:
    """Run a real worker until the queue is empty (crons off: the queued jobs must suffice)."""
    redis = await connect_redis(settings)
    worker = Worker(
        functions=[drain_outbox],
        queue_name=queue,
        on_startup=WorkerSettings.on_startup,
        on_shutdown=WorkerSettings.on_shutdown,
        redis_pool=redis,
        burst=True,
        poll_delay=0.05,
        keep_result=0,  # nothing left behind in Redis
        ctx={"settings": settings},
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
        await redis.aclose()


@pytest.fixture
def own_queue(app: Any) -> Iterator[str]:
    """A job queue of this test's own: the app sends its jobs there and the worker reads only
    it, so neither other tests' jobs nor another run's are run, taken or deleted."""
    queue = f"arq:queue:test-{uuid.uuid4().hex[:12]}"
    real, app.state.redis.default_queue_name = app.state.redis.default_queue_name, queue
    yield queue
    app.state.redis.default_queue_name = real


@pytest.fixture
async def committed_admin(app) -> AsyncIterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """An admin committed for real (the worker reads on its own connections); removed after."""
    async with app.state.sessionmaker() as session:
        user = await ensure_admin(session, "worker-e2e@example.com", "password123")
        await session.commit()
    assert user.id is not None
    yield {"Authorization": f"Bearer {create_access_token(user.id, SECRET, 10)}"}
    async with app.state.sessionmaker() as session:
        await session.execute(delete(User).where(User.id == user.id))  # type: ignore[arg-type]
        await session.commit()


class TestWorkerEndToEnd:
    async def test_api_write_reaches_search_through_the_worker(
        self,
        app: Any,
        settings: Settings,
        search_index: str,
        committed_admin: dict[str, str],
        own_queue: str,
    ) -> None:
        worker_settings = settings.model_copy(update={"MEILI_INDEX": search_index})
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            created = await http.post(
                "/movies", json={"title": "Brindlewick Harbor"}, headers=committed_admin
            )
            assert created.status_code == 201
            movie_id = created.json()["id"]
            await run_worker_burst(worker_settings, own_queue)
            found = (await http.get("/movies/search", params={"q": "brindlewik"})).json()
            assert [r["id"] for r in found["results"]] == [movie_id]

            deleted = await http.delete(f"/movies/{movie_id}", headers=committed_admin)
            assert deleted.status_code == 204
            await run_worker_burst(worker_settings, own_queue)
            gone = (await http.get("/movies/search", params={"q": "brindlewick"})).json()
            assert gone["total_results"] == 0
