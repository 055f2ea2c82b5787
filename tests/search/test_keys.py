"""The API searches with a search-only key, never with the master key."""

import pytest

from api.settings import Settings
from indexer import SearchFailed, upsert


class TestScopedKey:
    async def test_api_client_does_not_hold_the_master_key(self, app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
        key = app.state.meili.http_client.headers.get("Authorization", "")
        assert key.startswith("Bearer ") and settings.MEILI_MASTER_KEY not in key

    async def test_api_key_cannot_write_to_the_index(self, app, search_index: str) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(SearchFailed):
            await upsert(app.state.meili, search_index, [{"id": 1, "title": "forged"}])
