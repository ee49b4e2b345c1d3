"""POST /api/analyze with the offline provider: the contract the front end relies on."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.analysis.providers import OfflineProvider
from tests.conftest import ClientFactory
from tests.helpers import auth

TEXT = "Cats sleep most of the day. Cats purr when content. Dogs bark at cats."


def test_offline_analysis_of_text(client: TestClient) -> None:
    response = client.post("/api/analyze", json={"text": TEXT}, headers=auth())

    assert response.status_code == 200
    assert response.json() == {
        "summary": "Cats sleep most of the day. Cats purr when content.",
        "keywords": ["cats", "sleep", "day", "purr", "content"],
        "provider": "offline",
        "model": "offline-extractive-1",
        "offline": True,
    }
    assert response.headers["x-ratelimit-limit"] == "10"
    assert response.headers["x-ratelimit-remaining"] == "9"


def test_offline_analysis_of_article(client: TestClient) -> None:
    article = {
        "title": "Purring",
        "summary": "Cats purr. Cats purr again.",
        "url": "https://example.com/a",
    }
    article_id = client.post("/api/articles", json=article, headers=auth()).json()["id"]

    response = client.post("/api/analyze", json={"article_id": article_id}, headers=auth())

    assert response.status_code == 200
    assert response.json()["keywords"] == ["cats", "purr", "purring", "again"]


def test_unknown_article_gives_404(client: TestClient) -> None:
    response = client.post("/api/analyze", json={"article_id": 999}, headers=auth())

    assert response.status_code == 404
    assert response.json() == {"error": "not found", "error_id": response.headers["x-request-id"]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": "a", "article_id": 1},
        {"text": ""},
        {"article_id": 0},
        {"text": "a", "extra": 1},
    ],
    ids=["neither", "both", "empty-text", "zero-id", "extra-field"],
)
def test_invalid_body_gives_422(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/analyze", json=body, headers=auth())

    assert response.status_code == 422
    assert response.json()["error"] == "invalid request"


def test_text_over_the_setting_gives_413(make_client: ClientFactory) -> None:
    client = make_client(ai_max_text_chars=10)

    assert client.post("/api/analyze", json={"text": "x" * 10}, headers=auth()).status_code == 200
    response = client.post("/api/analyze", json={"text": "x" * 11}, headers=auth())

    assert response.status_code == 413
    assert response.json() == {
        "error": "request body too large",
        "error_id": response.headers["x-request-id"],
    }


def test_analyze_needs_a_key(client: TestClient) -> None:
    response = client.post("/api/analyze", json={"text": TEXT})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'


async def test_offline_provider_uses_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the offline provider opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)

    analysis = await OfflineProvider().analyze(TEXT)

    assert analysis.keywords == ["cats", "sleep", "day", "purr", "content"]
    assert analysis.tokens_used == 0
