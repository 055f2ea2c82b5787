"""Search and filter endpoints, served by Meilisearch."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.cache import SEARCH
from api.deps import PageDep, SettingsDep
from api.http_cache import cached_json
from api.movies.filters import FiltersDep, SortByQuery, parse_sort
from api.search import service
from api.search.documents import list_item
from api.search.schemas import FilterPage, SearchPage

router = APIRouter(tags=["search"])

Q = Annotated[
    str, Query(max_length=200, description="what to look for; typo-tolerant, as-you-type")
]


@router.get("/movies/search", response_model=SearchPage)
async def search_movies(
    request: Request,
    settings: SettingsDep,
    params: PageDep,
    filters: FiltersDep,
    q: Q = "",
    sort_by: SortByQuery = None,
) -> Response:
    """Typo-tolerant, as-you-type search by title, cast, directors and genre, with filters, facets,
    sorting and highlighted matches."""
    sort = parse_sort(sort_by) if sort_by else None

    async def build() -> bytes:
        meili = request.app.state.meili or await service.connect(request.app.state.search)
        page = await service.run_search(
            meili, settings.MEILI_INDEX, q.strip(), filters, sort, params
        )
        results = [service.search_result(hit, settings.IMAGE_BASE_URL) for hit in page.hits]
        return service.page_json(params, page, results)

    return await cached_json(request, [SEARCH], build, vary=settings.MEILI_INDEX)


@router.get("/movies/filter", response_model=FilterPage)
async def filter_movies(
    request: Request,
    settings: SettingsDep,
    params: PageDep,
    filters: FiltersDep,
    sort_by: SortByQuery = None,
) -> Response:
    """Filter and sort the catalog through the search index, with facet counts (no query)."""
    sort = parse_sort(sort_by or "popularity.desc")

    async def build() -> bytes:
        meili = request.app.state.meili or await service.connect(request.app.state.search)
        page = await service.run_search(meili, settings.MEILI_INDEX, "", filters, sort, params)
        results = [list_item(hit, settings.IMAGE_BASE_URL) for hit in page.hits]
        return service.page_json(params, page, results)

    return await cached_json(request, [SEARCH], build, vary=settings.MEILI_INDEX)
