"""Index settings applied idempotently, and drift repaired."""

from __future__ import annotations

from meilisearch_python_sdk import AsyncClient

from indexer import SETTINGS, ensure_settings
from indexer.settings import drifted
from indexer.tasks import wait_for


async def live_settings(client: AsyncClient, uid: str) -> dict:  # type: ignore[type-arg]
    return (await client.index(uid).get_settings()).model_dump(by_alias=True, mode="json")


class TestEnsureSettings:
    async def test_missing_index_is_created_with_settings(
        self, meili_index: tuple[AsyncClient, str]
    ) -> None:
        client, uid = meili_index

        assert await ensure_settings(client, uid) is True

        info = await client.get_raw_index(uid)
        assert info is not None and info.primary_key == "id"
        live = await live_settings(client, uid)
        assert not drifted(live)
        assert live["searchableAttributes"] == SETTINGS["searchableAttributes"]
        assert live["pagination"]["maxTotalHits"] == 2_000_000
        assert live["faceting"]["maxValuesPerFacet"] >= 200

    async def test_second_call_changes_nothing(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        tasks_before = (await client.get_tasks(index_ids=[uid])).total

        assert await ensure_settings(client, uid) is False

        assert (await client.get_tasks(index_ids=[uid])).total == tasks_before

    async def test_drift_is_repaired(self, meili_index: tuple[AsyncClient, str]) -> None:
        client, uid = meili_index
        await ensure_settings(client, uid)
        index = client.index(uid)
        await wait_for(client, await index.update_searchable_attributes(["overview", "title"]))
        await wait_for(client, await index.update_sortable_attributes(["title"]))

        assert await ensure_settings(client, uid) is True

        assert not drifted(await live_settings(client, uid))
        assert await ensure_settings(client, uid) is False


class TestDrifted:
    def test_attribute_sets_ignore_order(self) -> None:
        live = {
            **SETTINGS,
            "filterableAttributes": list(reversed(SETTINGS["filterableAttributes"])),
        }

        assert not drifted(live)

    def test_searchable_order_matters(self) -> None:
        live = {
            **SETTINGS,
            "searchableAttributes": list(reversed(SETTINGS["searchableAttributes"])),
        }

        assert drifted(live)

    def test_extra_server_defaults_are_ignored(self) -> None:
        live = {**SETTINGS, "typoTolerance": {**SETTINGS["typoTolerance"], "disableOnWords": []}}

        assert not drifted(live)

    def test_lower_total_hits_cap_is_drift(self) -> None:
        assert drifted({**SETTINGS, "pagination": {"maxTotalHits": 1000}})
