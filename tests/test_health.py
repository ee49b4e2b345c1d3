"""Liveness, readiness and the docs routes."""

from __future__ import annotations

import logging

import pytest

from app.db import Database
from tests.conftest import ClientFactory, SettingsFactory
from tests.helpers import GENERIC_KEYS, PRODUCTION_SETTINGS


def test_healthz_is_public(make_client: ClientFactory) -> None:
    response = make_client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_ready(make_client: ClientFactory) -> None:
    response = make_client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_reports_unreachable_database(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 9 (discard) on loopback has no PostgreSQL: the connection is refused.
    url = "postgresql+psycopg://app:db-secret-password@127.0.0.1:9/app"
    client = make_client()
    client.app.state.database = Database(url)  # type: ignore[attr-defined]
    caplog.set_level(logging.WARNING)

    response = client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json()) == GENERIC_KEYS
    assert "db-secret-password" not in response.text
    assert "db-secret-password" not in caplog.text
    assert "check=database" in caplog.text
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_docs_hidden_in_production(make_client: ClientFactory, path: str) -> None:
    response = make_client(**PRODUCTION_SETTINGS).get(path)
    assert response.status_code == 404
    assert set(response.json()) == GENERIC_KEYS


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_shown_in_development(make_client: ClientFactory, path: str) -> None:
    assert make_client(app_env="development").get(path).status_code == 200


def test_docs_stay_hidden_in_production_when_enabled(make_settings: SettingsFactory) -> None:
    from app.checks import find_settings_problems

    settings = make_settings(**PRODUCTION_SETTINGS, docs_enabled=True)
    assert settings.show_docs is False
    assert [p.subject for p in find_settings_problems(settings)] == ["DOCS_ENABLED"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_carry_their_own_policy(make_client: ClientFactory, path: str) -> None:
    response = make_client(app_env="development").get(path)
    policy = response.headers["content-security-policy"]
    assert response.status_code == 200
    # The API default (`default-src 'none'` and nothing else) would block
    # the CDN scripts and leave a blank page.
    assert "script-src https://cdn.jsdelivr.net" in policy
    assert "frame-ancestors 'none'" in policy
    assert len(response.headers.get_list("content-security-policy")) == 1
