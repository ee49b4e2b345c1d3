"""JSON bodies with duplicate keys or non-standard constants are rejected."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.security.strict_json import loads_strict
from tests.helpers import GENERIC_KEYS, auth

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "a", "title": "b", "url": "https://example.com"}',
        b'{"title": "a", "url": "https://example.com", "extra": {"k": 1, "k": 2}}',
        b'{"title": NaN, "url": "https://example.com"}',
        b'{"title": "a", "summary": Infinity, "url": "https://example.com"}',
        b'{"title": "a", "summary": -Infinity, "url": "https://example.com"}',
    ],
    ids=["duplicate", "nested-duplicate", "nan", "infinity", "minus-infinity"],
)
def test_ambiguous_json_is_rejected(client: TestClient, body: bytes) -> None:
    response = client.post("/api/articles", content=body, headers={**auth(), **JSON})
    assert response.status_code == 400
    assert set(response.json()) == GENERIC_KEYS
    assert client.get("/api/articles").json()["total"] == 0


def test_ordinary_json_is_accepted(client: TestClient) -> None:
    body = b'{"title": "a", "summary": "1e5 and NaN as text", "url": "https://example.com"}'
    response = client.post("/api/articles", content=body, headers={**auth(), **JSON})
    assert response.status_code == 201


def test_loads_strict_matches_json_for_valid_input() -> None:
    assert loads_strict(b'{"a": [1, 2.5, "x", null, true], "b": {"c": {}}}') == {
        "a": [1, 2.5, "x", None, True],
        "b": {"c": {}},
    }


def test_loads_strict_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="duplicate key"):
        loads_strict('{"a": 1, "a": 1}')
