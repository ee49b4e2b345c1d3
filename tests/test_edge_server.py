"""The browser boundary over real HTTP: `python -m app serve` in production, a second process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ALICE_KEY, PRODUCTION_ENV
from tests.test_server import running_server

pytestmark = pytest.mark.slow

ORIGIN = "https://app.example.com"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
}
# A version looks like 1.2 or 0.165.0; server and framework names count too.
VERSION_LIKE = re.compile(r"\d+\.\d+|uvicorn|starlette|fastapi|python", re.IGNORECASE)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("edge")
    env = {**PRODUCTION_ENV, "DATA_DIR": str(folder / "data"), "ALLOWED_ORIGINS": ORIGIN}
    with running_server(env, folder) as (url, _):
        yield url


def assert_edge_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], name
    assert "permissions-policy" in response.headers
    assert len(response.headers.get_list("x-request-id")) == 1
    assert "server" not in response.headers
    for name, value in response.headers.items():
        assert not VERSION_LIKE.search(value), f"{name}: {value}"


def assert_generic(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.json() == {"error": message, "error_id": response.headers["x-request-id"]}
    assert response.headers["content-type"] == "application/json"
    assert_edge_headers(response)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/debug/config", "/nope"])
def test_server_hides_docs_and_unknown_paths(server_url: str, path: str) -> None:
    assert_generic(httpx.get(f"{server_url}{path}"), 404, "not found")


def test_server_wrong_method_generic(server_url: str) -> None:
    response = httpx.delete(f"{server_url}/api/articles")
    assert_generic(response, 405, "method not allowed")
    assert response.headers["allow"] == "GET"


def test_server_foreign_host_generic(server_url: str) -> None:
    response = httpx.get(f"{server_url}/healthz", headers={"Host": "evil.test"})
    assert_generic(response, 400, "bad request")


def test_server_wrong_key_generic(server_url: str) -> None:
    response = httpx.get(f"{server_url}/api/me", headers={"X-API-Key": "wrong"})
    assert_generic(response, 401, "missing or invalid API key")
    assert response.headers["cache-control"] == "no-store"


def test_server_authenticated_not_stored(server_url: str) -> None:
    response = httpx.get(f"{server_url}/api/me", headers={"X-API-Key": ALICE_KEY})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert_edge_headers(response)


def test_server_preflight_allowed_origin(server_url: str) -> None:
    response = httpx.options(
        f"{server_url}/api/articles",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert "access-control-allow-credentials" not in response.headers
    assert_edge_headers(response)


@pytest.mark.parametrize(
    "origin",
    [
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://app.example.com.evil.test",
        "https://evilapp.example.com",
        "null",
        "https://APP.EXAMPLE.COM",
    ],
)
def test_server_lookalike_origin_rejected(server_url: str, origin: str) -> None:
    preflight = httpx.options(
        f"{server_url}/api/articles",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert_generic(preflight, 400, "bad request")
    assert "access-control-allow-origin" not in preflight.headers

    simple = httpx.get(f"{server_url}/api/articles", headers={"Origin": origin})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
