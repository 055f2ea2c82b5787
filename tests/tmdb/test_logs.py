"""Credentials in query strings never reach the logs: the filter on uvicorn's loggers masks
them (the real server's access log is checked in test_clients.py)."""

import logging

import pytest

from api.main import create_app
from api.settings import Settings
from api.tmdb.logs import MASK, RedactSecrets, redact

KEY = "0123456789abcdef0123456789abcdef"


class TestRedact:
    @pytest.mark.parametrize(
        ("target", "expected"),
        [
            (f"/3/movie/1?api_key={KEY}", f"/3/movie/1?api_key={MASK}"),
            (
                f"/3/movie/1?language=en-US&api_key={KEY}&page=2",
                f"/3/movie/1?language=en-US&api_key={MASK}&page=2",
            ),
            (f"/3/x?api_key={KEY}&&language=en", f"/3/x?api_key={MASK}&&language=en"),
            (f"/3/x?API_KEY={KEY}", f"/3/x?API_KEY={MASK}"),
            (f"/3/x?api%5Fkey={KEY}", f"/3/x?api%5Fkey={MASK}"),
            (f"/3/x?api_key={KEY}&api_key={KEY}", f"/3/x?api_key={MASK}&api_key={MASK}"),
            ("/3/account/1?session_id=abc&x=1", f"/3/account/1?session_id={MASK}&x=1"),
            ("/3/a?request_token=t&password=p", f"/3/a?request_token={MASK}&password={MASK}"),
            ("/movies?q=api_key=1", "/movies?q=api_key=1"),
            ("/movies?page=2&per_page=20", "/movies?page=2&per_page=20"),
        ],
    )
    def test_masks_the_values_of_secret_parameters_only(self, target: str, expected: str) -> None:
        assert redact(target) == expected

    def test_a_message_logged_without_arguments_is_masked(self) -> None:
        text = f'GET /3/genre/movie/list?api_key={KEY} "HTTP/1.1" 200'
        assert KEY not in redact(text)


class TestRedactSecretsFilter:
    def test_masks_uvicorns_access_log_record(self) -> None:
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", f"/3/genre/movie/list?api_key={KEY}", "1.1", 200),
            None,
        )
        assert RedactSecrets().filter(record) is True
        assert KEY not in record.getMessage()
        assert f"api_key={MASK}" in record.getMessage()

    def test_the_app_installs_it_on_uvicorns_loggers_once(self, settings: Settings) -> None:
        create_app(settings)
        create_app(settings)
        for name in ("uvicorn.access", "uvicorn.error"):
            filters = logging.getLogger(name).filters
            assert len([f for f in filters if isinstance(f, RedactSecrets)]) == 1
