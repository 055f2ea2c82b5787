"""Waiting on Meilisearch tasks, turning a failed task into SearchFailed."""

from __future__ import annotations

import asyncio

from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult

from indexer.errors import SearchFailed, SearchUnavailable, translate_errors

DEFAULT_TIMEOUT = 30.0
FINISHED = frozenset({"succeeded", "failed", "canceled"})
# A one-document update takes ~25 ms: poll soon, then back off for long tasks.
FIRST_POLL, MAX_POLL = 0.005, 0.05


@translate_errors
async def wait_for(
    client: AsyncClient, task: TaskInfo, max_wait: float = DEFAULT_TIMEOUT
) -> TaskResult:
    """Wait for task to finish; raise SearchFailed unless it succeeded."""
    # Our own loop: the SDK's never stops on "canceled" and raises without the task's error.
    try:
        async with asyncio.timeout(max_wait):
            result, pause = await client.get_task(task.task_uid), FIRST_POLL
            while result.status not in FINISHED:
                await asyncio.sleep(pause)
                result, pause = await client.get_task(task.task_uid), min(pause * 1.5, MAX_POLL)
    except TimeoutError:
        raise SearchUnavailable(f"task {task.task_uid} unfinished after {max_wait}s") from None
    if result.status != "succeeded":
        error = result.error or {}
        detail = f"{error.get('code', result.status)}: {error.get('message', '')}"
        raise SearchFailed(f"task {task.task_uid} ({result.task_type}) {detail}")
    return result
