"""Waiting on Meilisearch tasks, turning a failed task into SearchFailed."""

from __future__ import annotations

import asyncio

from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult

from indexer.errors import SearchFailed, SearchUnavailable, translate_errors

DEFAULT_TIMEOUT = 30.0
FINISHED = frozenset({"succeeded", "failed", "canceled"})
POLL_INTERVAL = 0.02


@translate_errors
async def wait_for(
    client: AsyncClient, task: TaskInfo, max_wait: float = DEFAULT_TIMEOUT
) -> TaskResult:
    """Wait for task to finish; raise SearchFailed unless it succeeded."""
    # Our own loop: the SDK's never stops on "canceled" and raises without the task's error.
    try:
        async with asyncio.timeout(max_wait):
            result = await client.get_task(task.task_uid)
            while result.status not in FINISHED:
                await asyncio.sleep(POLL_INTERVAL)
                result = await client.get_task(task.task_uid)
    except TimeoutError:
        raise SearchUnavailable(f"task {task.task_uid} unfinished after {max_wait}s") from None
    if result.status != "succeeded":
        error = result.error or {}
        detail = f"{error.get('code', result.status)}: {error.get('message', '')}"
        raise SearchFailed(f"task {task.task_uid} ({result.task_type}) {detail}")
    return result
