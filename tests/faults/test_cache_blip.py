"""No read after a write meets the old value, also when Redis hung while the write was made."""

from api.settings import Settings
from devstack.servers import Controlled
from tests.faults.conftest import World, eventually, running_app


class TestRedisBlip:
    async def test_a_write_made_while_redis_hung_is_read_back_after_it(
        self, settings: Settings, world: World, fault_redis: Controlled
    ) -> None:
        admin = await world.admin()
        changes = {"REDIS_URL": fault_redis.url, "CACHE_TTL_SECONDS": 300}
        async with running_app(settings, **changes) as (app, http):
            created = await http.post("/movies", json={"title": "Blip Before"}, headers=admin)
            movie_id = created.json()["id"]
            world.movie_ids.append(movie_id)
            for _ in range(2):  # built, then served from the cache
                assert (await http.get(f"/movies/{movie_id}")).json()["title"] == "Blip Before"

            fault_redis.pause()
            try:
                edit = {"title": "Blip After"}
                patched = await http.patch(f"/movies/{movie_id}", json=edit, headers=admin)
                assert patched.status_code == 200  # its invalidation did not reach Redis
            finally:
                fault_redis.resume()

            for _ in range(3):
                assert (await http.get(f"/movies/{movie_id}")).json()["title"] == "Blip After"
            cache = app.state.cache

            async def settled() -> bool:
                return bool(cache.trusted)

            await eventually(settled)  # the invalidation went out; the cache serves again
            for _ in range(2):
                assert (await http.get(f"/movies/{movie_id}")).json()["title"] == "Blip After"
