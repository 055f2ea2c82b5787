"""Zero-downtime rebuilds: a fresh index filled beside the live one, then swapped in."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from meilisearch_python_sdk import AsyncClient

from indexer import (
    MovieFilters,
    SearchFailed,
    drop_stale_builds,
    ensure_settings,
    rebuild,
    search_movies,
    upsert,
)
from indexer.rebuild import build_prefix
from indexer.settings import ensure_index
from tests.indexer.corpus import DOCUMENTS

OLD = DOCUMENTS[:10]
NEW = [{**doc, "title": f"{doc['title']} (restored)"} for doc in DOCUMENTS[5:]]


async def all_ids(client: AsyncClient, uid: str) -> tuple[int, list[int]]:
    page = await search_movies(client, uid, "", MovieFilters(), None, 1, 100)
    return page.total, sorted(hit["id"] for hit in page.hits)


async def index_names(client: AsyncClient, uid: str) -> list[str]:
    indexes = await client.get_raw_indexes(limit=1000) or []
    return sorted(info.uid for info in indexes if info.uid.startswith(uid))


def in_batches(docs: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [docs[start : start + size] for start in range(0, len(docs), size)]


class TestRebuild:
    async def test_missing_live_index_is_created(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        progress: list[int] = []

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            for batch in in_batches(NEW, 10):
                yield batch

        count = await rebuild(client, uid, batches(), progress.append)

        assert count == len(NEW)
        assert progress == [10, 20, len(NEW)]
        assert await all_ids(client, uid) == (len(NEW), sorted(doc["id"] for doc in NEW))
        assert await index_names(client, uid) == [uid]
        assert await ensure_settings(client, uid) is False

    async def test_documents_are_streamed_in_requests_of_bounded_size(
        self, meili_index: tuple[AsyncClient, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client, uid = meili_index
        # (indexer.rebuild the module: the package's `rebuild` is the function)
        monkeypatch.setattr(importlib.import_module("indexer.rebuild"), "SEND_BYTES", 1)

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            yield NEW[:4]
            yield []
            yield NEW[4:8]
            yield NEW[8:]

        assert await rebuild(client, uid, batches(), None) == len(NEW)

        assert await all_ids(client, uid) == (len(NEW), sorted(doc["id"] for doc in NEW))
        response = await client.http_client.get(
            "tasks", params={"types": "documentAdditionOrUpdate", "limit": 1000}
        )
        received = [
            task["details"]["receivedDocuments"]
            for task in response.json()["results"]
            if task["indexUid"].startswith(build_prefix(uid))
        ]
        assert sorted(received) == sorted([4, 4, len(NEW) - 8])

    async def test_search_answers_with_old_documents_until_the_swap(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, OLD)
        old_answer = (len(OLD), sorted(doc["id"] for doc in OLD))
        seen_during: list[tuple[int, list[int]]] = []

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            for batch in in_batches(NEW, 10):
                seen_during.append(await all_ids(client, uid))
                yield batch
            seen_during.append(await all_ids(client, uid))

        await rebuild(client, uid, batches(), None)

        assert seen_during == [old_answer] * 4
        assert await all_ids(client, uid) == (len(NEW), sorted(doc["id"] for doc in NEW))
        titles = await search_movies(client, uid, "restored", None, None, 1, 100)
        assert titles.total == len(NEW)
        assert await index_names(client, uid) == [uid]

    async def test_failing_batch_leaves_live_index_untouched(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, OLD)

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            # Batches are pipelined, so the failure surfaces when its task is awaited.
            yield NEW[:5]
            yield [{"id": "not a valid id!", "title": "broken"}]
            yield NEW[5:]

        with pytest.raises(SearchFailed):
            await rebuild(client, uid, batches(), None)

        assert await all_ids(client, uid) == (len(OLD), sorted(doc["id"] for doc in OLD))
        assert await index_names(client, uid) == [uid]

    async def test_error_in_the_source_leaves_live_index_untouched(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        await upsert(client, uid, OLD)

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            yield NEW[:5]
            raise RuntimeError("database went away")

        with pytest.raises(RuntimeError, match="database went away"):
            await rebuild(client, uid, batches(), None)

        assert await all_ids(client, uid) == (len(OLD), sorted(doc["id"] for doc in OLD))
        assert await index_names(client, uid) == [uid]


class TestDropStaleBuilds:
    async def test_removes_only_this_indexes_builds(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index
        names = [uid, f"{uid}__build_20260101000000000000", f"{uid}__build_2", f"{uid}_other"]
        for name in names:
            await ensure_index(client, name)

        dropped = await drop_stale_builds(client, uid)

        assert sorted(dropped) == sorted(names[1:3])
        assert await index_names(client, uid) == sorted([uid, f"{uid}_other"])
        assert await drop_stale_builds(client, uid) == []
