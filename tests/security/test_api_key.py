"""API keys fail closed, compare in constant time and never leak."""

from __future__ import annotations

import hashlib
import logging
import secrets

import pytest
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from httpx2 import Response

from app.checks import UnsafeConfigurationError
from app.main import create_app
from app.security.api_key import APIKeyAuth, parse_api_keys
from tests.conftest import ClientFactory, SettingsFactory
from tests.helpers import ALICE_KEY, BOB_KEY, GENERIC_KEYS, PRODUCTION_SETTINGS, auth


def assert_generic_401(response: Response) -> None:
    assert response.status_code == 401
    assert set(response.json()) == GENERIC_KEYS
    assert response.json()["error"] == "missing or invalid API key"
    assert response.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'


# --- refused production starts ------------------------------------------------


@pytest.mark.parametrize(
    ("api_keys", "expected"),
    [
        (None, "no API key is set"),
        ("", "no API key is set"),
        ("   ", "no API key is set"),
        ("svc:" + "k" * 4 + "9fG2", "shorter than 32 characters"),
        ("svc:changeme-changeme-changeme-changeme", "looks like a placeholder"),
        ("svc:" + "ab" * 20, "looks like a placeholder"),
    ],
    ids=["unset", "empty", "whitespace", "short", "placeholder", "low-variety"],
)
def test_production_start_refused_for_unsafe_keys(
    make_settings: SettingsFactory, api_keys: str | None, expected: str
) -> None:
    settings = make_settings(**{**PRODUCTION_SETTINGS, "api_keys": api_keys})

    with pytest.raises(UnsafeConfigurationError) as caught:
        create_app(settings)

    message = str(caught.value)
    assert "API_KEYS" in message
    assert expected in message
    assert "python -m app new-key" in message
    if api_keys and api_keys.strip():
        assert api_keys.split(":", 1)[1] not in message


def test_production_start_accepts_strong_keys(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(**PRODUCTION_SETTINGS))
    assert app.state.settings.is_production


def test_production_start_accepts_digest_entries(make_settings: SettingsFactory) -> None:
    digest = hashlib.sha256(ALICE_KEY.encode()).hexdigest()
    app = create_app(make_settings(**{**PRODUCTION_SETTINGS, "api_keys": f"alice:sha256:{digest}"}))
    with TestClient(app) as client:
        assert client.get("/api/me", headers=auth(ALICE_KEY)).json() == {"client_id": "alice"}
        assert_generic_401(client.get("/api/me", headers=auth(BOB_KEY)))


# --- requests that must be rejected --------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "wrong-key"},
        {"X-API-Key": ALICE_KEY[:-1]},
        {"X-API-Key": ALICE_KEY + "x"},
        {"X-API-Key": "A" * 10_240},
        {"Authorization": f"Bearer {ALICE_KEY}"},
        {"Cookie": f"X-API-Key={ALICE_KEY}"},
    ],
    ids=[
        "missing",
        "empty",
        "wrong",
        "prefix",
        "suffix",
        "10KB",
        "authorization-header",
        "cookie",
    ],
)
def test_protected_route_rejects_bad_key(client: TestClient, headers: dict[str, str]) -> None:
    assert_generic_401(client.get("/api/me", headers=headers))


def test_non_ascii_header_bytes_get_401(client: TestClient) -> None:
    for raw in (b"\xff\xfe\xfd", "ключ".encode(), ALICE_KEY.encode() + b"\xe9"):
        response = client.get("/api/me", headers={b"X-API-Key": raw})
        assert_generic_401(response)


def test_key_in_query_string_is_ignored(client: TestClient) -> None:
    for name in ("api_key", "X-API-Key", "key", "x-api-key"):
        assert_generic_401(client.get("/api/me", params={name: ALICE_KEY}))


def test_duplicate_key_headers_are_rejected(client: TestClient) -> None:
    response = client.get("/api/me", headers=[("X-API-Key", ALICE_KEY), ("X-API-Key", ALICE_KEY)])
    assert_generic_401(response)


# --- every key works, removed keys stop -----------------------------------------


def test_every_configured_key_works(client: TestClient) -> None:
    assert client.get("/api/me", headers=auth(ALICE_KEY)).json() == {"client_id": "alice"}
    assert client.get("/api/me", headers=auth(BOB_KEY)).json() == {"client_id": "bob"}


def test_rotation_keeps_old_and_new_key_valid(make_client: ClientFactory) -> None:
    new_key = secrets.token_urlsafe(32)
    client = make_client(api_keys=f"alice:{ALICE_KEY},alice:{new_key}")
    assert client.get("/api/me", headers=auth(ALICE_KEY)).json() == {"client_id": "alice"}
    assert client.get("/api/me", headers=auth(new_key)).json() == {"client_id": "alice"}


def test_removed_key_stops_working(make_client: ClientFactory) -> None:
    before = make_client(api_keys=f"alice:{ALICE_KEY},bob:{BOB_KEY}")
    assert before.get("/api/me", headers=auth(BOB_KEY)).status_code == 200

    after = make_client(api_keys=f"alice:{ALICE_KEY}")
    assert_generic_401(after.get("/api/me", headers=auth(BOB_KEY)))
    assert after.get("/api/me", headers=auth(ALICE_KEY)).status_code == 200


# --- no key configured: fail closed -------------------------------------------


def test_unconfigured_keys_fail_closed_with_500(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_keys=None)
    caplog.set_level(logging.ERROR, logger="app.security.api_key")

    for headers in ({}, auth(ALICE_KEY), {"X-API-Key": ""}):
        response = client.get("/api/me", headers=headers)
        assert response.status_code == 500
        assert response.json() == {
            "error": "internal server error",
            "error_id": response.headers["x-request-id"],
        }

    records = [r for r in caplog.records if r.name == "app.security.api_key"]
    assert len(records) == 3
    assert all("API_KEYS is not set" in r.getMessage() for r in records)


def test_public_route_works_without_keys(make_client: ClientFactory) -> None:
    client = make_client(api_keys=None)
    assert client.get("/healthz").status_code == 200


# --- the faulty pattern, to show what these tests catch -------------------------


def _faulty_app(secret: str | None) -> FastAPI:
    """The audited fault: the check runs only "if a secret is configured", with ==."""

    def check(x_api_key: str | None = Header(default=None)) -> None:
        if secret and x_api_key != secret:
            raise HTTPException(401)

    app = FastAPI()

    @app.get("/api/me", dependencies=[Depends(check)])
    def me() -> dict[str, str]:
        return {"client_id": "anyone"}

    return app


def _fixed_app(secret: str | None) -> FastAPI:
    guard = APIKeyAuth(parse_api_keys(f"svc:{secret}" if secret else ""))
    app = FastAPI()

    @app.get("/api/me", dependencies=[Depends(guard)])
    def me() -> dict[str, str]:
        return {"client_id": "svc"}

    return app


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="fails open")),
    ],
)
def test_missing_secret_never_lets_request_through(build: object) -> None:
    app = build(None)  # type: ignore[operator]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/me")
    assert response.status_code != 200


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="str compare")),
    ],
)
def test_non_ascii_key_gets_401_not_500(build: object) -> None:
    # compare_digest on str raises TypeError for non-ASCII; == does not, but
    # neither does it compare in constant time. The faulty app also lets an
    # empty secret through, so it is built with a secret here.
    app = build(ALICE_KEY)  # type: ignore[operator]

    def strict_check(x_api_key: str | None = Header(default=None)) -> None:
        if not secrets.compare_digest(x_api_key or "", ALICE_KEY):
            raise HTTPException(401)

    if build is _faulty_app:
        # The typical "fix" for timing leaks, still on str: a 500 for non-ASCII.
        app = FastAPI()
        app.get("/api/me", dependencies=[Depends(strict_check)])(lambda: {"client_id": "x"})
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/me", headers={b"X-API-Key": b"\xff\xfe"})
    assert response.status_code == 401


def test_key_never_in_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/api/me", headers=auth(ALICE_KEY))
    client.get("/api/me", headers=auth(ALICE_KEY + "x"))
    client.get("/api/me", params={"api_key": ALICE_KEY})

    # The test client's own httpx2 logger prints the URL it sends; only the
    # service's records count here.
    service_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert service_lines
    assert not [line for line in service_lines if ALICE_KEY in line]
