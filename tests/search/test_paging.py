"""A page far past the end answers an empty page on every list, never an error."""

import pytest
from httpx import AsyncClient


class TestFarPages:
    @pytest.mark.parametrize(
        "path", ["/movies", "/movies/popular", "/movies/filter", "/movies/search?q=a"]
    )
    async def test_a_page_far_past_the_end_is_empty_not_an_error(
        self, client: AsyncClient, search_index: str, path: str
    ) -> None:
        sep = "&" if "?" in path else "?"
        response = await client.get(f"{path}{sep}page=2000000000")
        assert response.status_code == 200, response.text
        assert response.json()["results"] == []
