"""Upserts and deletes, each applied before the call returns."""

from __future__ import annotations

import pytest
from meilisearch_python_sdk import AsyncClient

from indexer import (
    MovieFilters,
    SearchFailed,
    apply,
    delete,
    ensure_settings,
    search_movies,
    upsert,
)
from tests.indexer.corpus import DOCUMENTS


async def stored_ids(client: AsyncClient, uid: str) -> list[int]:
    page = await search_movies(client, uid, "", MovieFilters(), None, 1, 100)
    return sorted(hit["id"] for hit in page.hits)


class TestSync:
    async def test_upsert_then_delete(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)

        await upsert(client, uid, DOCUMENTS[:3])
        assert await stored_ids(client, uid) == sorted(doc["id"] for doc in DOCUMENTS[:3])

        await delete(client, uid, [DOCUMENTS[0]["id"], 424242])
        assert await stored_ids(client, uid) == sorted(doc["id"] for doc in DOCUMENTS[1:3])

    async def test_apply_replaces_whole_documents_and_deletes_in_one_go(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, DOCUMENTS[:3])
        edited = {key: value for key, value in DOCUMENTS[1].items() if key != "tagline"}
        edited["title"] = "Renamed"

        await apply(client, uid, [edited], [DOCUMENTS[2]["id"]])

        stored = await client.index(uid).get_document(DOCUMENTS[1]["id"])
        assert stored["title"] == "Renamed"
        assert "tagline" not in stored
        assert await stored_ids(client, uid) == sorted([DOCUMENTS[0]["id"], DOCUMENTS[1]["id"]])

    async def test_failed_task_raises(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)

        with pytest.raises(SearchFailed, match="invalid_document_id"):
            await upsert(client, uid, [{"id": "not a valid id!", "title": "x"}])

    async def test_nothing_to_do_makes_no_call(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index

        await apply(client, uid, [], [])

        assert await client.get_raw_index(uid) is None
