"""Liveness and readiness."""

import logging

import pytest
from httpx import AsyncClient

from api.db import make_engine
from indexer import make_client

CLOSED_DATABASE = "mysql+asyncmy://root:@127.0.0.1:1/nowhere"


class TestHealth:
    async def test_health_answers_ok(self, client: AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


class TestReady:
    async def test_ready_when_every_dependency_is_up(self, client: AsyncClient) -> None:
        response = await client.get("/ready/")
        assert response.status_code == 200, response.text
        assert response.json()["checks"] == {"database": "ok", "redis": "ok", "meilisearch": "ok"}

    async def test_ready_names_meilisearch_when_it_is_down(self, app, client: AsyncClient) -> None:  # type: ignore[no-untyped-def]
        real = app.state.meili
        app.state.meili = make_client("http://127.0.0.1:9", None, 0.5)
        try:
            response = await client.get("/ready")
        finally:
            await app.state.meili.aclose()
            app.state.meili = real
        assert response.status_code == 503
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["checks"]["meilisearch"] == "down"
        assert body["checks"]["database"] == "ok"

    async def test_a_down_dependency_is_named_without_its_address(
        self, app, client: AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:  # type: ignore[no-untyped-def]
        real = app.state.engine
        app.state.engine = make_engine(CLOSED_DATABASE)
        try:
            with caplog.at_level(logging.WARNING, logger="api.health"):
                response = await client.get("/ready")
        finally:
            await app.state.engine.dispose()
            app.state.engine = real
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "down"
        assert "127.0.0.1" not in response.text and "nowhere" not in response.text
        # The operator still learns what failed, and where.
        logged = [r.getMessage() for r in caplog.records if r.name == "api.health"]
        assert any("database" in line and "127.0.0.1" in line for line in logged), logged
