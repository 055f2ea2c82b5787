"""Keystroke-to-results latency of the web app, measured in the page (performance.now() from
the input event to the results drawn, debounce included) in headless Chromium, one keystroke at
a time; also the first load's size and screenshots for the README.

    python -m bench.web_latency_bench --url http://127.0.0.1:8000   # a running `make run`
"""

import argparse
import statistics
import time
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from bench.report import machine, table, write_result

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
QUERIES = ["interstelar", "dark knight", "incepton", "avatar", "pirates caribean", "matrix"]
KEYSTROKES = 50


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def first_load_bytes(url: str) -> int:
    """HTML + JS + CSS of the first load, uncompressed (every module the page imports)."""
    index = httpx.get(url + "/").text
    static = next(p for p in index.split('"') if p.endswith("/app.js")).rsplit("/", 1)[0]
    names = ["app.js", "api.js", "dom.js", "search.js", "pages.js", "account.js", "style.css"]
    return len(index.encode()) + sum(len(httpx.get(f"{url}{static}/{n}").content) for n in names)


def latencies(driver: webdriver.Chrome, url: str) -> list[float]:
    wait = WebDriverWait(driver, 30, poll_frequency=0.01)
    driver.get(url + "/")
    box = wait.until(lambda d: d.find_element("id", "q"))
    samples: list[float] = []
    while len(samples) < KEYSTROKES:
        for query in QUERIES:
            box.clear()
            typed = ""
            for char in query:
                typed += char
                driver.execute_script("delete document.body.dataset.latency")
                box.send_keys(char)
                expected = typed.strip()
                wait.until(
                    lambda d, t=expected: (
                        d.find_element("id", "results").get_attribute("data-query") == t
                        and d.execute_script("return document.body.dataset.latency") is not None
                    )
                )
                if typed.strip():
                    samples.append(
                        float(driver.execute_script("return document.body.dataset.latency"))
                    )
                if len(samples) >= KEYSTROKES:
                    return samples
    return samples


def screenshots(driver: webdriver.Chrome, url: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(driver, 30)
    ready = '#results[data-state="ready"]'
    driver.get(url + "/?q=dark%20knigth")
    wait.until(lambda d: d.find_elements("css selector", ready))
    time.sleep(1)  # posters finish loading (a picture, not a measurement)
    driver.save_screenshot(str(SHOTS / "home-search.png"))
    driver.get(url + "/movie/155")
    wait.until(lambda d: d.find_elements("css selector", "#cast li"))
    time.sleep(1)
    driver.save_screenshot(str(SHOTS / "movie.png"))
    driver.get(url + "/person/3894")
    wait.until(lambda d: d.find_elements("css selector", "#person-name"))
    time.sleep(1)
    driver.save_screenshot(str(SHOTS / "person.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    size = first_load_bytes(url)
    driver = chromium()
    try:
        samples = latencies(driver, url)
        screenshots(driver, url)
    finally:
        driver.quit()
    q = statistics.quantiles(samples, n=100)
    rows = [
        ("keystrokes", len(samples)),
        ("p50 (ms)", q[49]),
        ("p95 (ms)", q[94]),
        ("max (ms)", max(samples)),
        ("debounce included (ms)", 150),
        ("first load, HTML+JS+CSS (KB, uncompressed)", size / 1000),
    ]
    body = (
        "Keystroke to results drawn, measured in the page with `performance.now()` (from the "
        "input event to the result list replaced), typing the queries "
        f"{', '.join(QUERIES)} one key at a time in headless Chromium against the "
        "catalog that `make run` serves.\n\n" + table(["", "value"], rows)
    )
    path = write_result(
        "web-latency",
        "Web app: keystroke-to-results latency",
        body,
        machine("as configured by make run", "1.21"),
        "python -m bench.web_latency_bench --url http://127.0.0.1:8000",
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
