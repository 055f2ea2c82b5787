"""The local services `make run` and the tests start (worker/devstack.py)."""

from pathlib import Path

import httpx

from worker.devstack import start_meilisearch


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
