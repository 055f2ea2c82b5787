"""Liveness and readiness."""

from httpx import AsyncClient


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
        from indexer import make_client

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
        assert body["checks"]["meilisearch"].startswith("down")
        assert body["checks"]["database"] == "ok"
