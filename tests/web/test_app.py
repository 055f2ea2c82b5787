"""The web app's flows in Chromium: search, facets, movie and person pages, an account's
watchlist, an admin's edit reaching search. Every wait is on a condition, never a fixed time."""

import asyncio
import time
import uuid
from urllib.parse import quote

import httpx
import pytest
from selenium.webdriver.common.keys import Keys

from tests.web.conftest import PASSWORD, Page, WebStack, requires_chromium
from worker import sync

pytestmark = [requires_chromium, pytest.mark.timeout(240)]

INCEPTION, MISSPELLED = 27205, "Incepton"


def type_query(page: Page, text: str) -> None:
    box = page.find("#q")
    box.clear()
    box.send_keys(text)
    page.until(
        lambda d: (
            d.find_element("id", "results").get_attribute("data-query") == text
            and d.find_element("id", "results").get_attribute("data-state") == "ready"
        )
    )


def sign_in(page: Page, email: str) -> None:
    page.open("/signin")
    page.find("#email").send_keys(email)
    page.find("#password").send_keys(PASSWORD, Keys.ENTER)
    page.until(
        lambda d: d.find_element("tag name", "body").get_attribute("data-signed-in") == "yes"
    )


class TestServing:
    def test_pages_and_assets_have_their_headers(self, web_stack: WebStack) -> None:
        index = httpx.get(web_stack.url + "/movie/27205")
        assert index.status_code == 200
        assert index.headers["cache-control"] == "no-cache"
        csp = index.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "https://image.tmdb.org" in csp
        assert len(index.headers.get_list("content-security-policy")) == 1
        script = next(p for p in index.text.split('"') if p.endswith("/app.js"))
        asset = httpx.get(web_stack.url + script)
        assert asset.headers["content-type"].startswith("text/javascript")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"

    def test_api_paths_keep_their_answers(self, web_stack: WebStack) -> None:
        assert httpx.get(web_stack.url + "/movies/999999999").json()["code"] == "movie_not_found"
        assert httpx.get(web_stack.url + "/people/999999999").status_code == 404
        assert httpx.get(web_stack.url + "/nope").status_code == 404
        assert httpx.get(web_stack.url + "/health").json()


class TestSearch:
    def test_misspelled_title_finds_the_movie_highlighted(self, page: Page) -> None:
        page.open("/")
        type_query(page, MISSPELLED)
        card = page.find(f'#result-list [data-movie-id="{INCEPTION}"]')
        assert card.find_element("css selector", ".title mark").text
        assert "q=Incepton" in page.driver.current_url

    def test_facet_click_narrows_to_its_count(self, page: Page) -> None:
        page.open("/")
        type_query(page, "the")
        total = int(page.find("#status").get_attribute("data-total"))
        facet = page.find('.facet[data-facet="genre"]')
        count, value = int(facet.get_attribute("data-count")), facet.get_attribute("data-value")
        assert count < total
        facet.click()
        page.until(lambda d: "genre=" in d.current_url)
        page.until(
            lambda d: d.find_element("id", "status").get_attribute("data-total") == str(count)
        )
        pressed = page.find('.facet[data-facet="genre"][aria-pressed="true"]')
        assert pressed.get_attribute("data-value") == value
        page.driver.back()
        page.until(
            lambda d: d.find_element("id", "status").get_attribute("data-total") == str(total)
        )

    def test_empty_box_shows_browse_rows(self, page: Page) -> None:
        page.open("/")
        page.find('section.row[aria-label="Popular"] .card')


class TestMovieAndPerson:
    def test_movie_page_shows_cast_and_opens_a_person(self, page: Page) -> None:
        page.open(f"/movie/{INCEPTION}")
        page.find("#movie-title")
        actor = page.find("#cast li a")
        name = actor.text
        actor.click()
        page.until(lambda d: "/person/" in d.current_url)
        assert page.find("#person-name").text == name
        page.find('section[aria-label="As cast"] .card')


class TestAccount:
    def test_watchlist_add_survives_a_reload(self, page: Page) -> None:
        email = f"web-{uuid.uuid4().hex[:10]}@example.com"
        page.open("/register")
        page.find("#email").send_keys(email)
        page.find("#password").send_keys(PASSWORD)
        page.find("#display_name").send_keys("Web tester", Keys.ENTER)
        page.until(
            lambda d: d.find_element("tag name", "body").get_attribute("data-signed-in") == "yes"
        )
        page.open(f"/movie/{INCEPTION}")
        toggle = page.find('#toggle-watchlist[aria-pressed="false"]')
        toggle.click()
        page.find('#toggle-watchlist[aria-pressed="true"]')
        page.driver.refresh()
        page.find('#toggle-watchlist[aria-pressed="true"]')
        page.open("/account")
        page.find(f'#my-watchlist [data-movie-id="{INCEPTION}"]')


class TestAdmin:
    async def test_admin_edit_appears_in_search(self, page: Page, web_stack: WebStack) -> None:
        title = f"Quillback {uuid.uuid4().hex[:6]}"
        sign_in(page, web_stack.admin_email)
        page.open("/movie/155")
        field = page.find("#edit-title")
        field.clear()
        field.send_keys(title)
        page.find("#edit-save").click()
        page.until(
            lambda d: d.find_element("id", "edit-status").get_attribute("data-saved") == "yes"
        )
        await searchable(web_stack, title)
        page.open("/?q=" + quote(title))
        page.until(lambda d: d.find_element("id", "results").get_attribute("data-state") == "ready")
        assert page.find('#result-list [data-movie-id="155"]').text.startswith(title)


async def searchable(stack: WebStack, title: str) -> None:
    """Drain the outbox as the worker does, until search answers the new title."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=stack.url) as http:
        while time.monotonic() < deadline:
            await sync.drain(stack.resources)
            body = (await http.get("/movies/search", params={"q": title})).json()
            if any(r["id"] == 155 for r in body["results"]):
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{title!r} never became searchable")
