"""Pytest plugin: a real Meilisearch for the session and a fresh, unique index name per test."""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from meilisearch_python_sdk import AsyncClient

from devstack.servers import Service, start_meilisearch
from indexer import make_client
from tests.services import owned_temp_dir


@dataclass
class MeiliServer:
    url: str
    master_key: str


class _Shared:
    """One server per session even when these fixtures are registered from two places."""

    server: MeiliServer | None = None
    service: Service | None = None
    data_dir: Path | None = None
    users = 0


def _acquire() -> MeiliServer:
    if _Shared.server is None:
        url, key = os.environ.get("MEILI_URL"), os.environ.get("MEILI_MASTER_KEY")
        if url and key:
            _Shared.server = MeiliServer(url, key)
        else:
            key = secrets.token_hex(16)
            _Shared.data_dir = owned_temp_dir("meili")
            _Shared.service = start_meilisearch(_Shared.data_dir, master_key=key)
            _Shared.server = MeiliServer(_Shared.service.url, key)
    _Shared.users += 1
    return _Shared.server


def _release() -> None:
    _Shared.users -= 1
    if _Shared.users > 0:
        return
    if _Shared.service is not None:
        _Shared.service.stop()
    if _Shared.data_dir is not None:
        shutil.rmtree(_Shared.data_dir, ignore_errors=True)
    _Shared.server = _Shared.service = _Shared.data_dir = None


@pytest.fixture(scope="session")
def meili_server() -> Iterator[MeiliServer]:
    """MEILI_URL/MEILI_MASTER_KEY when both are set, else a throwaway server in a temp dir."""
    yield _acquire()
    _release()


@pytest.fixture(scope="session")
async def meili_client(meili_server: MeiliServer) -> AsyncIterator[AsyncClient]:
    """An admin client (master key) built the way the application builds it."""
    client = make_client(meili_server.url, meili_server.master_key, timeout=10.0)
    yield client
    await client.aclose()


def unique_uid(prefix: str = "test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def meili_index(meili_client: AsyncClient) -> AsyncIterator[tuple[AsyncClient, str]]:
    """(client, uid): a unique index name, not yet created; it and its builds go afterwards."""
    uid = unique_uid()
    yield meili_client, uid
    await drop_indexes(meili_client, uid)


async def drop_indexes(client: AsyncClient, uid: str) -> None:
    """Delete uid and every index whose name starts with it (rebuild leftovers and the like)."""
    indexes = await client.get_raw_indexes(limit=1000) or []
    for info in indexes:
        if info.uid.startswith(uid):
            task = await client.index(info.uid).delete()
            await client.wait_for_task(task.task_uid, timeout_in_ms=30_000)
