"""The local services `make run` and the tests start (devstack/servers.py)."""

import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.db import make_engine
from devstack import run as dev
from devstack.servers import (
    controlled_meilisearch,
    mariadb_installed,
    mysql_answers,
    start_mariadb,
    start_meilisearch,
)


class TestStartMeilisearch:
    def test_a_master_key_starting_with_a_dash_is_taken_as_the_key(self, tmp_path: Path) -> None:
        # token_urlsafe() keys start with "-" one time in 64; Meilisearch once took one for a flag.
        key = "-7" + "k" * 30
        service = start_meilisearch(tmp_path, master_key=key)
        try:
            with httpx.Client(base_url=service.url, timeout=5) as client:
                assert client.get("/keys").status_code == 401
                authorized = client.get("/keys", headers={"Authorization": f"Bearer {key}"})
                assert authorized.status_code == 200
        finally:
            service.stop()

    def test_the_master_key_is_not_on_the_command_line(self, tmp_path: Path) -> None:
        key = "secret-" + "k" * 30
        server = controlled_meilisearch(tmp_path, key)
        try:
            assert server.process is not None
            cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
            assert key.encode() not in cmdline  # `ps` shows it to every user of the machine
            with httpx.Client(base_url=server.url, timeout=5) as client:
                authorized = client.get("/keys", headers={"Authorization": f"Bearer {key}"})
                assert authorized.status_code == 200
        finally:
            server.stop()


@pytest.mark.skipif(not mariadb_installed(), reason="no MariaDB server installed")
class TestStartMariaDB:
    async def test_it_takes_root_over_tcp_in_utf8mb4_and_stops(self, tmp_path: Path) -> None:
        service = start_mariadb(tmp_path)
        port = int(service.url.rsplit(":", 1)[1])
        try:
            engine = make_engine(f"{service.url}/mysql")
            async with engine.connect() as conn:
                charset = (await conn.execute(text("SELECT @@character_set_server"))).scalar()
            await engine.dispose()
            assert charset == "utf8mb4"
        finally:
            service.stop()
        assert not mysql_answers("127.0.0.1", port)


class TestMakeRunRestartsChildren:
    def test_a_child_that_dies_is_started_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(dev, "RESTART_DELAYS", (0.05, 0.1))
        child = dev.Child.command("probe", [sys.executable, "-c", "pass"])  # dies at once
        first = child.process.pid
        deadline = time.monotonic() + 30
        try:
            while child.process.pid == first:
                assert time.monotonic() < deadline, "never started again"
                child.watch()
                time.sleep(0.02)
        finally:
            child.stop()
        assert child.delay > 0.05, "dying young doubles the pause before the next start"
