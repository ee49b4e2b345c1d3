"""Host checks: only the names in ALLOWED_HOSTS reach the app in production."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.checks import UnsafeConfigurationError
from app.main import create_app
from app.security.trusted_hosts import TrustedHostsMiddleware, host_from_header
from app.settings import SettingsError, load_settings
from tests.conftest import ClientFactory, SettingsFactory
from tests.helpers import PRODUCTION_SETTINGS


@pytest.fixture
def production_client(make_client: ClientFactory) -> TestClient:
    return make_client(**{**PRODUCTION_SETTINGS, "allowed_hosts": "api.example.com,*.example.org"})


@pytest.mark.parametrize(
    "host", ["api.example.com", "API.Example.com", "api.example.com:8443", "a.example.org"]
)
def test_allowed_host_passes(production_client: TestClient, host: str) -> None:
    response = production_client.get("/healthz", headers={"Host": host})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "host",
    [
        "evil.test",
        "api.example.com.evil.test",
        "evilapi.example.com",
        "example.org",
        "badexample.org",
        "testserver",
        "api.example.com:bad",
        "api.example.com/x",
        "",
    ],
)
def test_other_host_gets_generic_400(production_client: TestClient, host: str) -> None:
    response = production_client.get("/healthz", headers={"Host": host})

    assert response.status_code == 400
    assert response.json() == {"error": "bad request", "error_id": response.headers["x-request-id"]}
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers.get_list("x-request-id")) == 1


def test_other_host_on_unknown_path_gets_400(production_client: TestClient) -> None:
    response = production_client.get("/docs", headers={"Host": "evil.test"})
    assert response.status_code == 400


def test_production_without_allowed_hosts_refused(make_settings: SettingsFactory) -> None:
    settings = make_settings(**{**PRODUCTION_SETTINGS, "allowed_hosts": None})
    with pytest.raises(UnsafeConfigurationError) as caught:
        create_app(settings)

    message = str(caught.value)
    assert "ALLOWED_HOSTS" in message
    assert "no Host allowlist is set" in message


@pytest.mark.parametrize(
    ("value", "entry"),
    [
        ("https://api.example.com", "entry 1 'https://api.example.com'"),
        ("api.example.com,api.example.com:443", "entry 2 'api.example.com:443'"),
        ("*", "entry 1 '*'"),
        ("api.*.com", "entry 1 'api.*.com'"),
    ],
)
def test_allowed_hosts_bad_entry_rejected(
    monkeypatch: pytest.MonkeyPatch, value: str, entry: str
) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    message = str(caught.value)
    assert "ALLOWED_HOSTS" in message
    assert entry in message


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "testserver"])
def test_development_allows_local_names(make_client: ClientFactory, host: str) -> None:
    client = make_client(app_env="development")
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_development_rejects_other_names(make_client: ClientFactory) -> None:
    # A DNS-rebinding page reaches a local server under its own name.
    client = make_client(app_env="development")
    assert client.get("/healthz", headers={"Host": "rebind.evil.test"}).status_code == 400


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("Example.COM", "example.com"),
        ("example.com:80", "example.com"),
        ("[::1]:8000", "[::1]"),
        ("10.0.0.1", "10.0.0.1"),
        ("example.com:", None),
        ("exa mple.com", None),
        (None, None),
    ],
)
def test_host_from_header(header: str | None, host: str | None) -> None:
    assert host_from_header(header) == host


# --- the faulty pattern ----------------------------------------------------------------


def _faulty_app() -> FastAPI:
    """No Host check: the app responds under any name pointed at it."""
    app = FastAPI()
    app.get("/healthz")(lambda: {"status": "ok"})
    return app


def _fixed_app() -> FastAPI:
    app = _faulty_app()
    app.add_middleware(TrustedHostsMiddleware, allowed_hosts=["api.example.com"])
    return app


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="no Host check")),
    ],
)
def test_foreign_host_rejected(build: object) -> None:
    with TestClient(build()) as client:  # type: ignore[operator]
        response = client.get("/healthz", headers={"Host": "rebind.evil.test"})
    assert response.status_code == 400


def test_duplicate_host_headers_rejected(make_client: ClientFactory) -> None:
    client = make_client(**PRODUCTION_SETTINGS)
    for first, second in (("localhost", "evil.test"), ("localhost", "localhost")):
        response = client.get("/healthz", headers=[("Host", first), ("Host", second)])
        assert response.status_code == 400
        assert set(response.json()) == {"error", "error_id"}
