"""Upstream calls: bounded in time, generic on failure, and the key never leaks."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.analysis.upstream import SENTINEL, Upstream, running_upstream
from tests.conftest import ClientFactory
from tests.helpers import auth

PROVIDER_KEY = "prov-" + secrets.token_urlsafe(24)
TEXT = {"text": "Alpha beta gamma. Delta epsilon."}
READ_TIMEOUT = 0.5
DEADLINE = 1.5


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with running_upstream() as server:
        yield server


def provider_client(
    make_client: ClientFactory, base_url: str, provider: str = "openai"
) -> TestClient:
    return make_client(
        ai_provider=provider,
        ai_api_key=PROVIDER_KEY,
        ai_base_url=base_url,
        ai_connect_timeout=1.0,
        ai_read_timeout=READ_TIMEOUT,
        ai_deadline=DEADLINE,
    )


def assert_nothing_leaked(response_text: str, caplog: pytest.LogCaptureFixture) -> None:
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in (PROVIDER_KEY, SENTINEL):
        assert secret not in response_text
        assert secret not in logged


def assert_generic(response_json: dict[str, str], status_message: str, request_id: str) -> None:
    assert response_json == {"error": status_message, "error_id": request_id}


def test_normal_reply_is_returned(
    make_client: ClientFactory, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = provider_client(make_client, f"{upstream.url}/ok")

    response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 200
    assert response.json() == {
        "summary": "A short summary.",
        "keywords": ["alpha", "beta"],
        "provider": "openai",
        "model": "gpt-4o-mini",
        "offline": False,
    }
    assert_nothing_leaked(response.text, caplog)


def test_key_travels_only_in_the_authorization_header(
    make_client: ClientFactory, upstream: Upstream
) -> None:
    client = provider_client(make_client, f"{upstream.url}/ok")
    client.post("/api/analyze", json=TEXT, headers=auth())

    [(path, headers)] = upstream.requests
    assert path == "/ok/chat/completions"
    assert headers["Authorization"] == f"Bearer {PROVIDER_KEY}"
    assert PROVIDER_KEY not in path


def test_anthropic_key_travels_in_x_api_key(make_client: ClientFactory, upstream: Upstream) -> None:
    client = provider_client(make_client, f"{upstream.url}/ok", provider="anthropic")
    client.post("/api/analyze", json=TEXT, headers=auth())

    [(path, headers)] = upstream.requests
    assert path == "/ok/v1/messages"
    assert headers["x-api-key"] == PROVIDER_KEY
    assert "Authorization" not in headers


def test_upstream_500_gives_502_without_its_body(
    make_client: ClientFactory, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = provider_client(make_client, f"{upstream.url}/error")

    response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 502
    assert_generic(response.json(), "bad gateway", response.headers["x-request-id"])
    assert_nothing_leaked(response.text, caplog)
    assert (
        "upstream call failed: provider=openai reason=upstream returned an error status status=500"
        in caplog.text
    )


def test_unreadable_reply_gives_502(
    make_client: ClientFactory, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = provider_client(make_client, f"{upstream.url}/garbage")

    response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 502
    assert_generic(response.json(), "bad gateway", response.headers["x-request-id"])
    assert_nothing_leaked(response.text, caplog)


def test_reply_slower_than_read_timeout_gives_504(
    make_client: ClientFactory, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.slow_seconds = READ_TIMEOUT + 1.0
    client = provider_client(make_client, f"{upstream.url}/slow")

    started = time.monotonic()
    response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 504
    assert time.monotonic() - started < READ_TIMEOUT + 0.5
    assert_generic(response.json(), "gateway timeout", response.headers["x-request-id"])
    assert_nothing_leaked(response.text, caplog)


def test_trickling_reply_gives_504_within_the_deadline(
    make_client: ClientFactory, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.trickle_seconds = DEADLINE + 3.0
    client = provider_client(make_client, f"{upstream.url}/trickle")

    started = time.monotonic()
    response = client.post("/api/analyze", json=TEXT, headers=auth())
    elapsed = time.monotonic() - started

    # Each byte arrives well inside the read timeout; only the deadline stops it.
    assert response.status_code == 504
    assert DEADLINE - 0.1 < elapsed < DEADLINE + 0.5
    assert_generic(response.json(), "gateway timeout", response.headers["x-request-id"])
    assert_nothing_leaked(response.text, caplog)


def test_unreachable_upstream_gives_502(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    from tests.helpers import free_port

    client = provider_client(make_client, f"http://127.0.0.1:{free_port()}")

    response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 502
    assert_generic(response.json(), "bad gateway", response.headers["x-request-id"])
    assert_nothing_leaked(response.text, caplog)
