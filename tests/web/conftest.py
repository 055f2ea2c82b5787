"""The web app in real Chromium: the sample catalog in a database and index of this run's own,
served by uvicorn on a free port, driven headless through chromedriver (Debian's packages)."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import make_engine
from api.settings import Settings
from api.users.models import User
from devstack.servers import free_port
from tests.catalogs import SAMPLE, SAMPLE_FILES, imported_database
from tests.conftest import PASSWORD_HASH, drop_database
from tests.meili_fixtures import drop_indexes
from tests.tmdb.live import PASSWORD, serving, start_uvicorn
from worker.resources import Resources, connect_redis, open_resources

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HAVE_CHROMIUM = CHROMIUM.exists() and CHROMEDRIVER.exists()
NO_CHROMIUM = "browser tests need /usr/bin/chromium and /usr/bin/chromedriver (apt-get install ...)"
NO_CHROMIUM = NO_CHROMIUM.replace("...", "chromium chromium-driver")
WAIT_SECONDS = 30.0

requires_chromium = pytest.mark.skipif(not HAVE_CHROMIUM, reason=NO_CHROMIUM)


@dataclass
class WebStack:
    url: str
    admin_email: str
    settings: Settings
    resources: Resources


@pytest.fixture(scope="session")
async def web_settings(settings: Settings) -> AsyncIterator[Settings]:
    """The sample catalog in a database of its own, with both indexes built."""
    from worker.sync import rebuild_index

    url = f"{settings.DATABASE_URL}_web"
    web = settings.model_copy(
        update={"DATABASE_URL": url, "MEILI_INDEX": f"web_{uuid.uuid4().hex[:8]}"}
    )
    await imported_database(url, [SAMPLE / name for name in SAMPLE_FILES])
    res = await open_resources(web, redis=await connect_redis(web))
    await rebuild_index(res)
    assert res.redis is not None
    await res.redis.aclose()
    await res.close()
    yield web
    res = await open_resources(web)
    await drop_indexes(res.meili, web.MEILI_INDEX)
    await res.close()
    await drop_database(url)


async def _committed_admin(settings: Settings) -> str:
    engine = make_engine(settings.DATABASE_URL)
    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    async with AsyncSession(engine) as session:
        user = User.model_validate(
            {
                "email": email,
                "password_hash": PASSWORD_HASH,
                "display_name": "Admin",
                "is_admin": True,
            }
        )
        session.add(user)
        await session.commit()
    await engine.dispose()
    return email


@pytest.fixture(scope="session")
async def web_stack(
    web_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebStack]:
    if not HAVE_CHROMIUM:
        pytest.skip(NO_CHROMIUM)
    admin_email = await _committed_admin(web_settings)
    port, log = free_port(), tmp_path_factory.mktemp("uvicorn-web") / "uvicorn.log"
    process = start_uvicorn(web_settings, port, log)
    res = await open_resources(web_settings, redis=await connect_redis(web_settings))
    try:
        async with serving(process, port, log) as url:
            yield WebStack(url, admin_email, web_settings, res)
    finally:
        assert res.redis is not None
        await res.redis.aclose()
        await res.close()


def chromium(width: int = 1280, height: int = 900, phone: bool = False) -> webdriver.Chrome:
    """Headless Chromium with a window of width x height; a phone's viewport of that size (headless
    windows are at least 500 pixels wide) when phone is set."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    if phone:
        metrics = {"width": width, "height": height, "pixelRatio": 3.0, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    return driver


@pytest.fixture(scope="session")
def browser_session() -> Iterator[webdriver.Chrome]:
    if not HAVE_CHROMIUM:
        pytest.skip(NO_CHROMIUM)
    driver = chromium()
    yield driver
    driver.quit()


@dataclass
class Page:
    driver: webdriver.Chrome
    base: str

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def until(
        self, condition: Callable[[webdriver.Chrome], Any], timeout: float = WAIT_SECONDS
    ) -> Any:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition)

    def find(self, css: str) -> WebElement:
        """The first element matching css, once it is there and shown."""
        return self.until(
            lambda d: next(
                (e for e in d.find_elements("css selector", css) if e.is_displayed()), False
            )
        )

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements("css selector", css)


@pytest.fixture
def page(web_stack: WebStack, browser_session: webdriver.Chrome) -> Page:
    """A browser with no account signed in (each test starts from a clean origin)."""
    driver = browser_session
    driver.get(web_stack.url + "/health")
    driver.delete_all_cookies()
    driver.execute_script("window.localStorage.clear()")
    return Page(driver, web_stack.url)


@pytest.fixture
def phone(web_stack: WebStack) -> Iterator[Page]:
    """A browser of its own at phone size (390x844), no account signed in."""
    driver = chromium(390, 844, phone=True)
    try:
        yield Page(driver, web_stack.url)
    finally:
        driver.quit()


__all__ = ["PASSWORD", "Page", "WebStack", "requires_chromium"]
