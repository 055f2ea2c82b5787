"""Highlights are HTML: stored text is escaped, and only Meilisearch's matches are marked."""

from typing import Any

from httpx import AsyncClient

from tests.conftest import Account
from worker import sync
from worker.resources import Resources

XSS_TITLE = "X <img src=x onerror=alert(1)> Night"
BOLD_NAME = "<b>Bold</b> Person"


async def add_movie(
    client: AsyncClient, admin: Account, title: str, cast: tuple[str, ...] = ()
) -> int:
    body = {"title": title, "cast": [{"name": name} for name in cast]}
    response = await client.post("/movies", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    movie_id: int = response.json()["id"]
    return movie_id


async def only_result(client: AsyncClient, q: str) -> dict[str, Any]:
    response = await client.get("/movies/search", params={"q": q})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == 1, results
    return results[0]


class TestEscapedHighlights:
    async def test_markup_in_a_title_is_escaped_around_the_mark(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        await add_movie(client, admin, XSS_TITLE)
        await sync.drain(resources)

        result = await only_result(client, "Night")

        assert (
            result["highlights"]["title"]
            == "X &lt;img src=x onerror=alert(1)&gt; <mark>Night</mark>"
        )
        assert result["title"] == XSS_TITLE, "only highlights are HTML; fields stay as stored"

    async def test_markup_in_a_cast_name_is_escaped_around_the_mark(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        await add_movie(client, admin, XSS_TITLE, cast=(BOLD_NAME, "Plain <i>Extra</i>"))
        await sync.drain(resources)

        # Meilisearch does not split "Bold" out of "<b>Bold</b>": the name's last word is found.
        result = await only_result(client, "Person")

        assert result["highlights"] == {
            "title": "X &lt;img src=x onerror=alert(1)&gt; Night",
            "cast": ["&lt;b&gt;Bold&lt;/b&gt; <mark>Person</mark>"],
        }

    async def test_browsing_escapes_the_title_too(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        await add_movie(client, admin, XSS_TITLE)
        await sync.drain(resources)

        result = await only_result(client, "")

        assert result["highlights"] == {
            "title": "X &lt;img src=x onerror=alert(1)&gt; Night",
            "cast": [],
        }

    async def test_a_title_cannot_forge_a_mark(
        self, client: AsyncClient, admin: Account, resources: Resources
    ) -> None:
        tags = await add_movie(client, admin, "<mark>Forged</mark> Night")
        markers = await add_movie(client, admin, "\ue000Forged\ue001 Night 'Quote\" & Co")
        await sync.drain(resources)

        response = await client.get("/movies/search", params={"q": "Night"})

        titles = {r["id"]: r["highlights"]["title"] for r in response.json()["results"]}
        # Stored tags are text; a title holding the marker characters loses them, and its marks.
        assert titles == {
            tags: "&lt;mark&gt;Forged&lt;/mark&gt; <mark>Night</mark>",
            markers: "Forged Night &#x27;Quote&quot; &amp; Co",
        }
