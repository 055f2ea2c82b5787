"""The API searches with a search-only key, never with the master key."""

import pytest

from api.settings import Settings
from indexer import SearchFailed, make_client, upsert


def api_key(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.state.meili.http_client.headers.get("Authorization", "")).removeprefix("Bearer ")


class TestScopedKey:
    async def test_api_client_does_not_hold_the_master_key(self, app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
        key = api_key(app)
        assert key and key != settings.MEILI_MASTER_KEY

    async def test_api_key_cannot_write_to_the_index(
        self, app, settings: Settings, search_index: str
    ) -> None:  # type: ignore[no-untyped-def]
        # A client of its own: a refused write may leave its connection unusable.
        client = make_client(settings.MEILI_URL, api_key(app), 5.0)
        try:
            with pytest.raises(SearchFailed):
                await upsert(client, search_index, [{"id": 1, "title": "forged"}])
        finally:
            await client.aclose()
