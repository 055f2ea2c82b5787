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
WHIPLASH = 244786
PHONE_WIDTH = 390  # the phone fixture's viewport: 390x844


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
        assert isinstance(httpx.get(web_stack.url + "/genres").json(), list)
        genre_page = httpx.get(web_stack.url + "/genre/18")
        assert genre_page.headers["content-type"].startswith("text/html")
        assert httpx.get(web_stack.url + "/genre/drama").status_code == 404

    def test_first_load_is_under_150_kb(self, page: Page) -> None:
        page.open("/")
        page.find('section.row[aria-label="Popular"] .card')
        sizes = page.driver.execute_script(
            """return performance.getEntries()
                 .filter((e) => e.entryType === 'navigation' || e.entryType === 'resource')
                 .filter((e) => e.initiatorType !== 'img' && e.name.startsWith(location.origin))
                 .map((e) => e.encodedBodySize);"""
        )
        assert len(sizes) > 5 and 0 < sum(sizes) < 150_000


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


class TestPhoneAndKeyboard:
    def test_phone_width_search_fits_and_opens_a_movie(self, phone: Page) -> None:
        phone.open("/")
        phone.find('section.row[aria-label="Popular"] .card')
        assert fits(phone)
        type_query(phone, MISSPELLED)
        card = phone.find(f'#result-list [data-movie-id="{INCEPTION}"] a')
        assert fits(phone)
        box = phone.find("#q").rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
        card.click()
        phone.until(lambda d: d.current_url.endswith(f"/movie/{INCEPTION}"))
        phone.find("#cast li a")
        assert fits(phone)

    def test_tab_from_search_box_reaches_first_result_and_enter_opens_it(self, page: Page) -> None:
        page.open("/")
        type_query(page, MISSPELLED)
        first = page.find("#result-list .card a")
        movie_id = page.find("#result-list .card").get_attribute("data-movie-id")
        assert page.driver.switch_to.active_element == page.find("#q")
        for _ in range(3):
            page.driver.switch_to.active_element.send_keys(Keys.TAB)
            if page.driver.switch_to.active_element == first:
                break
        assert page.driver.switch_to.active_element == first
        first.send_keys(Keys.ENTER)
        page.until(lambda d: d.current_url.endswith(f"/movie/{movie_id}"))
        page.find("#movie-title")


def fits(page: Page, width: int = PHONE_WIDTH) -> bool:
    """No horizontal scrolling: the page is no wider than the window, and the window no wider than
    the phone (a phone's browser widens its layout viewport to fit content that overflows)."""
    script = "return [document.documentElement.scrollWidth, window.innerWidth]"
    scroll, inner = page.driver.execute_script(script)
    return bool(scroll <= inner <= width)


class TestBrowse:
    def test_genre_chip_opens_its_page(self, page: Page, web_stack: WebStack) -> None:
        page.open("/")
        chip = page.find('nav[aria-label="Genres"] a.chip')
        name, genre_id = chip.text, chip.get_attribute("data-genre-id")
        chip.click()
        page.until(lambda d: d.current_url.endswith(f"/genre/{genre_id}"))
        assert page.find("#genre-name").text == f"Genre: {name}"
        page.until(lambda d: d.title.startswith(f"Genre: {name}"))
        page.until(
            lambda d: d.find_element("id", "genre-results").get_attribute("data-state") == "ready"
        )
        answer = httpx.get(
            web_stack.url + "/movies/filter",
            params={"genre": genre_id, "sort_by": "popularity.desc", "per_page": 20},
        ).json()
        assert page.find("#genre-total").get_attribute("data-total") == str(answer["total_results"])
        shown = [c.get_attribute("data-movie-id") for c in page.all("#genre-list .card")]
        assert shown == [str(m["id"]) for m in answer["results"]]
        page.find("#genre-list .card a").click()
        page.find("#movie-title")
        page.find(f'.facts a[href="/genre/{genre_id}"]').click()
        page.until(lambda d: d.find_element("id", "genre-name").text == f"Genre: {name}")
        page.driver.back()
        page.find("#movie-title")
        page.driver.back()
        page.until(lambda d: d.find_element("id", "genre-name").text == f"Genre: {name}")


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

    async def test_admin_cast_edit_shows_on_page_and_in_search(
        self, page: Page, web_stack: WebStack
    ) -> None:
        letters = "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:6])
        actor, role = f"Ottoline {letters.capitalize()}", "Session drummer"
        sign_in(page, web_stack.admin_email)
        page.open(f"/movie/{WHIPLASH}")
        page.find("#cast-name").send_keys(actor)
        page.find("#cast-character").send_keys(role, Keys.ENTER)
        page.find(f'#edit-cast li[data-name="{actor}"]')
        page.find("#edit-save").click()
        page.until(
            lambda d: d.find_element("id", "edit-status").get_attribute("data-saved") == "yes"
        )
        assert f"{actor} as {role}" in cast_lines(page)

        page.driver.refresh()
        page.find("#movie-title")
        page.find("#cast-more").click()
        page.until(lambda d: f"{actor} as {role}" in cast_lines(page))
        await searchable(web_stack, actor, WHIPLASH)
        page.open("/?q=" + quote(actor))
        page.until(lambda d: d.find_element("id", "results").get_attribute("data-state") == "ready")
        card = page.find(f'#result-list [data-movie-id="{WHIPLASH}"]')
        assert actor in card.find_element("css selector", ".cast").text

        page.open(f"/movie/{WHIPLASH}")
        page.find(f'#edit-cast button[aria-label="Remove {actor} from the cast"]').click()
        page.until(lambda d: not d.find_elements("css selector", f'li[data-name="{actor}"]'))
        page.find("#edit-save").click()
        page.until(
            lambda d: d.find_element("id", "edit-status").get_attribute("data-saved") == "yes"
        )
        assert not any(line.startswith(actor) for line in cast_lines(page))
        assert cast_lines(page)


def cast_lines(page: Page) -> list[str]:
    """The movie page's cast lines ("Name as Character"), read at once."""
    script = "return [...document.querySelectorAll('#cast li')].map((li) => li.textContent)"
    return page.driver.execute_script(script)


async def searchable(stack: WebStack, text: str, movie_id: int = 155) -> None:
    """Drain the outbox as the worker does, until searching text answers the movie."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=stack.url) as http:
        while time.monotonic() < deadline:
            await sync.drain(stack.resources)
            body = (await http.get("/movies/search", params={"q": text})).json()
            if any(r["id"] == movie_id for r in body["results"]):
                return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} never found movie {movie_id}")
