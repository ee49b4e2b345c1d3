"""The request body limit on small apps: counting, early refusal, JSON reply, route limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx2
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from starlette.types import Message

from app.security.body_limit import add_body_limit
from app.security.errors import install_error_handlers

LIMIT = 1000
ROUTE_LIMIT = 5000


def _routes(app: FastAPI) -> None:
    @app.post("/read")
    async def read(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.post("/ignore")
    async def ignore() -> dict[str, str]:
        return {"body": "not read"}

    uploads = APIRouter()

    @uploads.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    app.include_router(uploads, max_body_size=ROUTE_LIMIT)


def _fixed_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    _routes(app)
    add_body_limit(app, LIMIT)
    return app


def _faulty_app() -> FastAPI:
    """The framework's limit alone: its reply is plain text, not the error body."""
    app = FastAPI(max_body_size=LIMIT)
    install_error_handlers(app)
    _routes(app)
    return app


def _chunks(total: int, size: int = 100) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


def _assert_json_413(response: httpx2.Response) -> None:
    assert response.status_code == 413
    body = response.json()
    assert body == {"error": "request body too large", "error_id": body["error_id"]}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == body["error_id"]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_fixed_app(), raise_server_exceptions=False) as client:
        yield client


def test_body_at_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/read", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert response.json() == {"received": LIMIT}


def test_content_length_over_limit_is_413(client: TestClient) -> None:
    _assert_json_413(client.post("/read", content=b"x" * (LIMIT + 1)))


def test_chunked_body_over_limit_is_413(client: TestClient) -> None:
    response = client.post("/read", content=_chunks(LIMIT * 3))
    assert "content-length" not in response.request.headers
    _assert_json_413(response)


def test_route_limit_allows_larger_body(client: TestClient) -> None:
    response = client.post("/upload", content=b"x" * ROUTE_LIMIT)
    assert response.status_code == 200
    assert response.json() == {"received": ROUTE_LIMIT}


def test_route_limit_still_stops_chunked_body(client: TestClient) -> None:
    _assert_json_413(client.post("/upload", content=_chunks(ROUTE_LIMIT * 2)))


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="plain text 413")),
    ],
)
def test_unread_oversized_body_gets_error_body(build: Callable[[], FastAPI]) -> None:
    # The route responds without reading the body, and the limiter replaces that response.
    with TestClient(build(), raise_server_exceptions=False) as client:
        response = client.post("/ignore", content=b"x" * (LIMIT + 1))
    _assert_json_413(response)


async def test_content_length_over_limit_is_refused_before_reading() -> None:
    app = _fixed_app()
    reads = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/read",
        "raw_path": b"/read",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-length", b"1000000")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)

    assert reads == 0
    assert sent[0]["status"] == 413
