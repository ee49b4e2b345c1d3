"""Property tests for inputs a schema cannot describe: header bytes and setting strings."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.security.api_key import parse_api_keys
from app.settings import Settings, SettingsError, load_settings
from tests.conftest import ClientFactory
from tests.helpers import ALICE_KEY

# Header bytes an HTTP/1.1 client can send: anything but CR, LF and NUL,
# which h11 and every server reject before the application sees them.
header_bytes = st.binary(min_size=0, max_size=300).filter(
    lambda value: not any(byte in value for byte in b"\r\n\x00")
)
REQUEST_ID = re.compile(r"[0-9a-f]{32}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(value=header_bytes)
def test_api_key_header_bytes_never_500(client: TestClient, value: bytes) -> None:
    response = client.get("/api/me", headers={b"X-API-Key": value})
    if value.strip() == ALICE_KEY.encode():
        assert response.status_code == 200
    else:
        assert response.status_code == 401
        assert response.json()["error"] == "missing or invalid API key"


@FUZZ
@given(value=header_bytes)
def test_request_id_header_bytes_never_echoed_unchecked(client: TestClient, value: bytes) -> None:
    response = client.get("/healthz", headers={b"X-Request-ID": value})
    assert response.status_code == 200
    (request_id,) = response.headers.get_list("x-request-id")
    assert REQUEST_ID.fullmatch(request_id)


@FUZZ
@given(value=st.text(max_size=200))
def test_api_keys_parse_or_name_variable(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", value.replace("\x00", ""))
    try:
        loaded = load_settings(env_file=None)
    except SettingsError as error:
        messages = error.messages
    else:
        assert all(entry.client_id for entry in loaded.api_keys)
        return
    assert messages
    assert all(message.startswith("API_KEYS: ") for message in messages)


@FUZZ
@given(
    entries=st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True),
            st.from_regex(r"[!-+\--~]{1,60}", fullmatch=True),
        ),
        max_size=5,
        unique_by=lambda entry: entry[1],
    )
)
def test_valid_api_keys_round_trip(entries: list[tuple[str, str]]) -> None:
    text = ",".join(f"{client}:{key}" for client, key in entries)
    parsed = parse_api_keys(text)
    assert [entry.client_id for entry in parsed] == [client for client, _ in entries]
    assert [entry.plain_key for entry in parsed] == [
        None if re.fullmatch(r"sha256:[0-9a-fA-F]{64}", key) else key for _, key in entries
    ]


def test_settings_type_has_no_unparsed_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # A list variable given as one plain word must parse as a one-item list.
    monkeypatch.setenv("ALLOWED_HOSTS", "example.com")
    assert Settings(_env_file=None).allowed_hosts == ["example.com"]


ALLOWED_ORIGIN = "https://app.example.com"
ORIGIN_FORM = re.compile(r"(\*|https?://[a-z0-9.\-\[\]:]+)")


@pytest.fixture
def cors_client(make_client: ClientFactory) -> TestClient:
    # One app for every generated example: the fixture runs once per test.
    return make_client(allowed_origins=ALLOWED_ORIGIN)


@FUZZ
@given(origin=header_bytes, preflight=st.booleans())
def test_origin_header_bytes_never_widen_cors(
    cors_client: TestClient, origin: bytes, preflight: bool
) -> None:
    client = cors_client
    headers = {b"Origin": origin}
    if preflight:
        headers[b"Access-Control-Request-Method"] = b"GET"
        response = client.options("/api/articles", headers=headers)
    else:
        response = client.get("/api/articles", headers=headers)

    assert response.status_code < 500
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed in (None, ALLOWED_ORIGIN)
    if allowed is not None:
        assert origin == ALLOWED_ORIGIN.encode()
    if response.status_code >= 400:
        assert {"error", "error_id"} <= set(response.json())


@FUZZ
@given(value=st.text(max_size=200))
def test_allowed_origins_parse_or_name_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("ALLOWED_ORIGINS", value.replace("\x00", ""))
    try:
        loaded = load_settings(env_file=None)
    except SettingsError as error:
        messages = error.messages
    else:
        assert all(ORIGIN_FORM.fullmatch(origin) for origin in loaded.allowed_origins)
        return
    assert messages
    assert all(message.startswith("ALLOWED_ORIGINS: ") for message in messages)
