"""Errors reach the client as a generic body with an id; the log keeps the detail."""

from __future__ import annotations

import logging
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import AfterValidator, BaseModel

from app.main import create_app
from app.security.errors import ErrorBoundaryMiddleware, install_error_handlers
from tests.conftest import SettingsFactory
from tests.helpers import GENERIC_KEYS, auth

SENTINEL = "sentinel-7f3a1c-internal-detail"


def _reject_sentinel(value: str) -> str:
    if value == "trigger":
        raise ValueError(f"validator failed with {SENTINEL}")
    return value


class Probe(BaseModel):
    name: str
    count: int
    checked: Annotated[str, AfterValidator(_reject_sentinel)] = "ok"


def _add_failing_routes(app: FastAPI) -> None:
    auth_dependency = app.state.auth

    @app.get("/api/boom", dependencies=[Depends(auth_dependency)])
    def boom() -> None:
        raise RuntimeError(f"database password is {SENTINEL}")

    @app.get("/api/teapot", dependencies=[Depends(auth_dependency)])
    def teapot() -> None:
        raise HTTPException(409, detail=f"row {SENTINEL} already exists")

    @app.post("/api/probe", dependencies=[Depends(auth_dependency)])
    def probe(body: Probe) -> dict[str, str]:
        return {"name": body.name}


@pytest.fixture
def failing_client(make_settings: SettingsFactory) -> TestClient:
    app = create_app(make_settings())
    _add_failing_routes(app)
    return TestClient(app, raise_server_exceptions=False)


def test_unhandled_exception_gives_generic_500(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    response = failing_client.get("/api/boom", headers=auth())

    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json() == {"error": "internal server error", "error_id": request_id}
    assert SENTINEL not in response.text

    (record,) = [r for r in caplog.records if r.name == "app.security.errors"]
    assert request_id in record.getMessage()
    assert "GET" in record.getMessage()
    assert "/api/boom" in record.getMessage()
    assert record.exc_info is not None
    assert "RuntimeError" in caplog.text
    assert SENTINEL in caplog.text  # the log keeps the detail for the operator


def test_500_logged_once(failing_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    failing_client.get("/api/boom", headers=auth())
    assert len([r for r in caplog.records if r.exc_info]) == 1


def test_http_exception_detail_is_not_sent(failing_client: TestClient) -> None:
    response = failing_client.get("/api/teapot", headers=auth())
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "error_id": response.headers["x-request-id"]}


def test_422_omits_submitted_values(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = failing_client.post(
        "/api/probe", headers=auth(), json={"name": SENTINEL, "count": "not-a-number"}
    )

    assert response.status_code == 422
    body = response.json()
    assert set(body) == {*GENERIC_KEYS, "fields"}
    assert body["error"] == "invalid request"
    assert body["fields"] == [
        {
            "loc": ["body", "count"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
    assert SENTINEL not in response.text
    assert "not-a-number" not in response.text
    assert SENTINEL not in caplog.text


def test_422_omits_invalid_value(failing_client: TestClient) -> None:
    response = failing_client.post(
        "/api/probe", headers=auth(), json={"name": "n", "count": SENTINEL}
    )
    assert response.status_code == 422
    assert SENTINEL not in response.text


def test_validator_valueerror_gives_422(failing_client: TestClient) -> None:
    response = failing_client.post(
        "/api/probe", headers=auth(), json={"name": "n", "count": 1, "checked": "trigger"}
    )
    assert response.status_code == 422
    (field,) = response.json()["fields"]
    assert field["loc"] == ["body", "checked"]
    # pydantic puts the ValueError's text in `msg`; the sentinel is in the
    # exception text, which a validator author controls. It is sent only as
    # the message the validator chose, never as the submitted value.
    assert "trigger" not in response.text


def test_invalid_json_gives_422(failing_client: TestClient) -> None:
    response = failing_client.post(
        "/api/probe",
        headers={**auth(), "Content-Type": "application/json"},
        content=b'{"name": "' + SENTINEL.encode() + b'", ',
    )
    assert response.status_code == 422
    assert SENTINEL not in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/no/such/path", 404, "not found"),
        ("DELETE", "/api/articles", 405, "method not allowed"),
        ("GET", "/api/articles/0", 422, "invalid request"),
        ("GET", "/api/articles/99999999999999999999999", 422, "invalid request"),
        ("GET", "/api/articles/123456", 404, "not found"),
    ],
)
def test_framework_errors_use_generic_body(
    failing_client: TestClient, method: str, path: str, status: int, message: str
) -> None:
    with failing_client:
        response = failing_client.request(method, path)
    assert response.status_code == status
    assert response.json()["error"] == message
    assert response.json()["error_id"] == response.headers["x-request-id"]


def test_405_keeps_allow_header(failing_client: TestClient) -> None:
    response = failing_client.delete("/api/articles")
    assert response.headers["allow"] == "GET"


# --- request ids ---------------------------------------------------------------


def test_wellformed_request_id_is_kept(failing_client: TestClient) -> None:
    inbound = "0123456789abcdef0123456789abcdef"
    response = failing_client.get("/api/boom", headers={**auth(), "X-Request-ID": inbound})
    assert response.headers["x-request-id"] == inbound
    assert response.json()["error_id"] == inbound


@pytest.mark.parametrize(
    "inbound",
    [
        "short",
        "x" * 32,
        "0123456789abcdef0123456789abcdef\nforged",
        "a" * 500,
        "{" + "0" * 32 + "}",
    ],
)
def test_malformed_request_id_is_replaced(failing_client: TestClient, inbound: str) -> None:
    response = failing_client.get("/healthz", headers={"X-Request-ID": inbound})
    assert response.headers["x-request-id"] != inbound
    assert len(response.headers["x-request-id"]) == 32


def test_every_response_has_one_request_id(failing_client: TestClient) -> None:
    for path in ("/healthz", "/api/me", "/nope", "/api/boom"):
        response = failing_client.get(path, headers=auth())
        assert len(response.headers.get_list("x-request-id")) == 1


# --- the faulty pattern ----------------------------------------------------------


def _faulty_app() -> FastAPI:
    """The audited fault: the exception text goes back to the client."""
    app = FastAPI()

    @app.get("/boom")
    def boom() -> dict[str, str]:
        try:
            raise RuntimeError(f"connect failed for user app at /srv/{SENTINEL}")
        except RuntimeError as error:
            return {"error": str(error)}

    @app.post("/probe")
    def probe(body: Probe) -> dict[str, str]:
        return {"name": body.name}

    return app


def _fixed_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(ErrorBoundaryMiddleware)

    @app.get("/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError(f"connect failed for user app at /srv/{SENTINEL}")

    @app.post("/probe")
    def probe(body: Probe) -> dict[str, str]:
        return {"name": body.name}

    return app


@pytest.mark.parametrize(
    "build", [_fixed_app, pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True))]
)
def test_exception_text_never_reaches_client(build: object) -> None:
    with TestClient(build(), raise_server_exceptions=False) as client:  # type: ignore[operator]
        assert SENTINEL not in client.get("/boom").text


@pytest.mark.parametrize(
    "build", [_fixed_app, pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True))]
)
def test_422_never_echoes_input(build: object) -> None:
    with TestClient(build(), raise_server_exceptions=False) as client:  # type: ignore[operator]
        # FastAPI's default body echoes the invalid field's value as `input`.
        response = client.post("/probe", json={"name": "n", "count": SENTINEL})
    assert response.status_code == 422
    assert SENTINEL not in response.text


def test_422_omits_unknown_key_names(client: TestClient) -> None:
    body = {"title": "t", "url": "https://example.com", SENTINEL: 1}
    response = client.post("/api/articles", json=body, headers=auth())
    assert response.status_code == 422
    assert SENTINEL not in response.text
    assert response.json()["fields"] == [{"loc": ["body"], "msg": "Extra inputs are not permitted"}]


def test_422_lists_at_most_twenty_fields(client: TestClient) -> None:
    body: dict[str, object] = {"title": "t", "url": "https://example.com"}
    body.update({f"extra{number}": number for number in range(5000)})
    response = client.post("/api/articles", json=body, headers=auth())
    assert response.status_code == 422
    assert len(response.json()["fields"]) == 20
