"""Per-client limits on cost routes, and a per-address quota of failed keys."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from slowapi import Limiter

from app.main import create_app
from tests.conftest import SettingsFactory
from tests.helpers import ALICE_KEY, BOB_KEY, auth

TEXT = {"text": "Rate limits stop authorised abuse."}
AppFactory = Callable[[SettingsFactory], FastAPI]


def _service(make_settings: SettingsFactory) -> FastAPI:
    return create_app(make_settings(analyze_rate_limit="3/minute"))


def _faulty_slowapi_decorator_order(_make_settings: SettingsFactory) -> FastAPI:
    # The limit decorator sits above the route decorator, so FastAPI has
    # already registered the undecorated function: no limit, and no error.
    limiter = Limiter(key_func=lambda request: "everyone")
    app = FastAPI()
    app.state.limiter = limiter

    @limiter.limit("3/minute")
    @app.post("/api/analyze")
    async def analyze(request: Request) -> dict[str, str]:
        return {"summary": "paid for"}

    return app


def _faulty_no_limit(_make_settings: SettingsFactory) -> FastAPI:
    app = FastAPI()

    @app.post("/api/analyze")
    async def analyze() -> dict[str, str]:
        return {"summary": "paid for"}

    return app


@pytest.mark.parametrize(
    "build",
    [
        _service,
        pytest.param(
            _faulty_slowapi_decorator_order,
            marks=pytest.mark.xfail(strict=True, reason="decorator above the route: no limit"),
        ),
        pytest.param(
            _faulty_no_limit, marks=pytest.mark.xfail(strict=True, reason="no limit at all")
        ),
    ],
)
def test_call_over_the_limit_gets_429(make_settings: SettingsFactory, build: AppFactory) -> None:
    with TestClient(build(make_settings), raise_server_exceptions=False) as client:
        statuses = [
            client.post("/api/analyze", json=TEXT, headers=auth()).status_code for _ in range(4)
        ]

    assert statuses == [200, 200, 200, 429]


def test_429_has_generic_body_and_retry_after(make_settings: SettingsFactory) -> None:
    with TestClient(_service(make_settings)) as client:
        for _ in range(3):
            client.post("/api/analyze", json=TEXT, headers=auth())
        response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 429
    assert response.json() == {
        "error": "too many requests",
        "error_id": response.headers["x-request-id"],
    }
    assert 55 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-limit"] == "3"
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_allowed_call_carries_limit_headers(make_settings: SettingsFactory) -> None:
    with TestClient(_service(make_settings)) as client:
        response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "3"
    assert response.headers["x-ratelimit-remaining"] == "2"
    assert int(response.headers["x-ratelimit-reset"]) > 0
    assert "retry-after" not in response.headers


def test_other_client_keeps_its_own_quota(make_settings: SettingsFactory) -> None:
    with TestClient(_service(make_settings)) as client:
        for _ in range(4):
            client.post("/api/analyze", json=TEXT, headers=auth(ALICE_KEY))
        response = client.post("/api/analyze", json=TEXT, headers=auth(BOB_KEY))

    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == "2"


def test_routes_that_cost_nothing_are_not_limited(make_settings: SettingsFactory) -> None:
    with TestClient(_service(make_settings)) as client:
        for _ in range(4):
            client.post("/api/analyze", json=TEXT, headers=auth())
        response = client.get("/api/me", headers=auth())

    assert response.status_code == 200


def test_rotating_invalid_keys_gets_429(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(auth_failure_rate_limit="3/minute"))
    with TestClient(app) as client:
        statuses = [
            client.post(
                "/api/analyze", json=TEXT, headers=auth(secrets.token_urlsafe(32))
            ).status_code
            for _ in range(5)
        ]
        # Once over the quota, even a valid key from that address is rejected,
        # so the status does not tell a guessed key from a wrong one.
        valid = client.post("/api/analyze", json=TEXT, headers=auth())

    assert statuses == [401, 401, 401, 429, 429]
    assert valid.status_code == 429
    assert valid.json()["error"] == "too many requests"
    assert "retry-after" in valid.headers


class PeerApp:
    """Wrap an ASGI app so the socket peer is `address`, as a server would set it."""

    def __init__(self, app: FastAPI, address: str) -> None:
        self.app = app
        self.address = address

    async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (self.address, 50000)}
        await self.app(scope, receive, send)  # type: ignore[arg-type]  # plain ASGI callables


def _failures_until_429(app: FastAPI, peer: str, forwarded_for: list[str]) -> list[int]:
    with TestClient(PeerApp(app, peer)) as client:  # type: ignore[arg-type]  # an ASGI app
        return [
            client.post(
                "/api/analyze",
                json=TEXT,
                headers={"X-API-Key": "wrong", "X-Forwarded-For": forwarded},
            ).status_code
            for forwarded in forwarded_for
        ]


def test_forwarded_for_from_untrusted_peer_keeps_the_bucket(
    make_settings: SettingsFactory,
) -> None:
    app = create_app(make_settings(auth_failure_rate_limit="2/minute"))

    statuses = _failures_until_429(
        app, "198.51.100.7", ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    )

    assert statuses == [401, 401, 429]


def test_forwarded_for_from_trusted_proxy_sets_the_bucket(
    make_settings: SettingsFactory,
) -> None:
    app = create_app(
        make_settings(auth_failure_rate_limit="2/minute", forwarded_allow_ips="10.0.0.0/8")
    )

    statuses = _failures_until_429(
        app, "10.0.0.5", ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.1", "203.0.113.1"]
    )

    assert statuses == [401, 401, 401, 401, 429]


def test_refusals_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    from app.security.rate_limit import _RepeatedWarnings

    caplog.set_level(logging.WARNING, logger="app.security.rate_limit")
    warnings = _RepeatedWarnings(interval=3600)
    for _ in range(50):
        warnings.warning("analyze:alice", "rate limit reached: client_id=%s", "alice")
    warnings.warning("analyze:bob", "rate limit reached: client_id=%s", "bob")

    lines = [record.getMessage() for record in caplog.records]
    assert lines == ["rate limit reached: client_id=alice", "rate limit reached: client_id=bob"]
