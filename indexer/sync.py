"""Writing documents to the index: upserts and deletes, each awaited until applied."""

from __future__ import annotations

from typing import Any

from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.task import TaskInfo

from indexer.errors import translate_errors
from indexer.settings import PRIMARY_KEY
from indexer.tasks import wait_for

WRITE_TIMEOUT = 60.0


@translate_errors
async def upsert(
    client: AsyncClient, uid: str, docs: list[dict[str, Any]], max_wait: float = WRITE_TIMEOUT
) -> None:
    """Add or fully replace docs; returns once they are searchable."""
    await apply(client, uid, docs, [], max_wait)


@translate_errors
async def delete(
    client: AsyncClient, uid: str, ids: list[int], max_wait: float = WRITE_TIMEOUT
) -> None:
    """Remove the documents with these ids (missing ones are ignored)."""
    await apply(client, uid, [], ids, max_wait)


@translate_errors
async def apply(
    client: AsyncClient,
    uid: str,
    upserts: list[dict[str, Any]],
    deletes: list[int],
    max_wait: float = WRITE_TIMEOUT,
) -> None:
    """Send upserts, then deletes (so an id in both ends up deleted), and wait for both."""
    index = client.index(uid)
    tasks: list[TaskInfo] = []
    if upserts:
        tasks.append(await index.add_documents(upserts, primary_key=PRIMARY_KEY))
    if deletes:
        tasks.append(await index.delete_documents([str(doc_id) for doc_id in deletes]))
    # Meilisearch runs tasks in order, so waiting on each in turn costs no extra time.
    for task in tasks:
        await wait_for(client, task, max_wait)
