"""The detectors added for formats detect-secrets 1.5 lacks: each format, each near miss."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import default_settings

from app.secrets_scan.engine import detect_secrets_configured, scan_text
from tests.secrets_scan.keys import (
    anthropic_key,
    client_api_key,
    github_fine_grained_token,
    google_key,
    openai_project_key,
)

FORMATS: list[tuple[str, Callable[[], str]]] = [
    ("Anthropic API Key", anthropic_key),
    ("Google API Key", google_key),
    ("OpenAI Project Key", openai_project_key),
    ("GitHub Fine-Grained Token", github_fine_grained_token),
]

# One value a format's pattern must not match: too short, too long, or a
# segment of the wrong size.
NEAR_MISSES: list[tuple[str, Callable[[], str]]] = [
    ("Anthropic API Key", lambda: anthropic_key(body_length=40)),
    ("Anthropic API Key", lambda: "sk-" + "ant-" + "..."),
    ("Google API Key", lambda: google_key(body_length=34)),
    ("Google API Key", lambda: google_key(body_length=36)),
    ("OpenAI Project Key", lambda: openai_project_key(body_length=20)),
    ("GitHub Fine-Grained Token", lambda: github_fine_grained_token(first=21)),
    ("GitHub Fine-Grained Token", lambda: github_fine_grained_token(second=58)),
]


def detectors_in(text: str) -> list[str]:
    with detect_secrets_configured():
        return [finding.detector for finding in scan_text("settings.txt", text)]


@pytest.mark.parametrize(("detector", "make_key"), FORMATS, ids=[name for name, _ in FORMATS])
def test_detector_finds_format(detector: str, make_key: Callable[[], str]) -> None:
    assert detectors_in(f"{make_key()}\n") == [detector]


@pytest.mark.parametrize(
    ("detector", "make_value"), NEAR_MISSES, ids=[name for name, _ in NEAR_MISSES]
)
def test_detector_ignores_near_miss(detector: str, make_value: Callable[[], str]) -> None:
    assert detector not in detectors_in(f"{make_value()}\n")


def test_format_detector_named_over_generic_one() -> None:
    # The key also has high entropy and sits in a keyword assignment.
    assert detectors_in(f'ANTHROPIC_API_KEY = "{anthropic_key()}"\n') == ["Anthropic API Key"]


def test_inline_marker_allowlists_line() -> None:
    line = f'value = "{google_key()}"  # pragma: allowlist secret (test fixture)\n'
    assert detectors_in(line) == []


# Where this service's client keys get written down: (file, line) with one
# `{}` per key. The marked lines contain no key: only the quoted `dev:{}` looks
# like a secret assignment to the Secret Keyword detector.
CLIENT_KEY_LINES: list[tuple[str, str]] = [
    (".env.production", "API_KEYS=dev:{}"),
    ("deploy.env", "API_KEYS=dev:{},ci:{}"),
    ("deploy.sh", "export API_KEYS='dev:{}';"),  # pragma: allowlist secret (no key)
    ("config.yaml", 'API_KEYS: "dev:{}, ci.build_2:{}"'),  # pragma: allowlist secret (no key)
    ("Dockerfile", "ENV API_KEYS=dev:{}"),
    ("Dockerfile", "ENV API_KEYS dev:{}"),
    ("compose.yaml", "      - API_KEYS=dev:{}"),
    ("compose.yaml", '      - "API_KEYS=dev:{}"'),
    ("compose.yaml", "      API_KEYS: dev:{}"),
    ("settings.py", 'os.environ["API_KEYS"] = "dev:{}"'),  # pragma: allowlist secret (no key)
    ("README.md", 'curl -H "X-API-Key: {}" http://127.0.0.1:8000/api/me'),
    ("request.http", "X-API-Key: {}"),
    ("access.log", "headers: x-api-key: {}"),
    ("client.py", 'headers = {{"X-API-Key": "{}"}}'),
]


def findings_in(path: str, text: str) -> list[tuple[str, str]]:
    with detect_secrets_configured():
        return [(finding.detector, finding.value) for finding in scan_text(path, text)]


@pytest.mark.parametrize(
    ("path", "line"), CLIENT_KEY_LINES, ids=[line for _, line in CLIENT_KEY_LINES]
)
def test_client_key_found(path: str, line: str) -> None:
    keys = [client_api_key() for _ in range(line.count("{}"))]

    found = findings_in(path, line.format(*keys) + "\n")

    assert sorted(found) == sorted(("Client API Key", key) for key in keys)


def test_client_key_found_at_20_characters() -> None:
    key = client_api_key(19) + "7"

    assert findings_in(".env", f"API_KEYS=dev:{key}\n") == [("Client API Key", key)]


def test_quoted_client_key_reported_once() -> None:
    # Secret Keyword reports the whole "dev:<key>" as well. The key's own
    # finding covers it.
    key = client_api_key()

    line = f'API_KEYS = "dev:{key}"\n'  # pragma: allowlist secret (key made at run time)

    assert findings_in("settings.py", line) == [("Client API Key", key)]


def stock_findings_in(path: str, text: str) -> list[tuple[str, str]]:
    """The faulty pattern: detect-secrets' own detectors, which detect neither form."""
    lines = list(enumerate(text.splitlines(), start=1))
    with default_settings():
        return [
            (secret.type, secret.secret_value or "")
            for secret in _process_line_based_plugins(lines, filename=path)
        ]


@pytest.mark.parametrize(
    "find",
    [
        findings_in,
        pytest.param(
            stock_findings_in,
            marks=pytest.mark.xfail(strict=True, reason="stock detectors miss API_KEYS entries"),
        ),
    ],
)
def test_env_file_client_key_found(find: Callable[[str, str], list[tuple[str, str]]]) -> None:
    key = client_api_key()

    assert find(".env.production", f"API_KEYS=dev:{key}\n") == [("Client API Key", key)]


# Lines that look like a client key but contain none: placeholders, variables,
# keys assembled at run time, a digest, words, a key too short.
CLIENT_KEY_NEAR_MISSES: list[Callable[[], str]] = [
    lambda: "API_KEYS=dev:<key from .env>",
    lambda: "API_KEYS=dev:<key>,ci:<key>",
    lambda: "API_KEYS=dev:${API_KEY}",
    lambda: "API_KEYS=dev:$KEY",
    lambda: "API_KEYS=...",
    lambda: "API_KEYS=",
    lambda: "API_KEYS: ''",
    lambda: 'settings = make_settings(API_KEYS=f"alice:{ALICE_KEY},bob:{BOB_KEY}")',
    lambda: f"API_KEYS=dev:sha256:{hashlib.sha256(client_api_key().encode()).hexdigest()}",
    lambda: "API_KEYS=dev:replace-with-a-generated-key",
    lambda: f"API_KEYS=dev:{client_api_key(18)}7",
    lambda: 'curl -H "X-API-Key: <key from .env>" http://127.0.0.1:8000/api/me',
    lambda: 'curl -H "X-API-Key: $KEY" http://127.0.0.1:8000/api/me',
    lambda: 'curl -H "X-API-Key: ${API_KEY}" http://127.0.0.1:8000/api/me',
    lambda: "X-API-Key: ...",
    lambda: 'headers = {"X-API-Key": f"{ALICE_KEY}"}',
    lambda: 'headers = {"X-API-Key": generated_client_key}',
    lambda: f"X-API-Key: {client_api_key(18)}7",
]


@pytest.mark.parametrize("make_line", CLIENT_KEY_NEAR_MISSES)
def test_client_key_near_miss_ignored(make_line: Callable[[], str]) -> None:
    assert findings_in("deploy.env", make_line() + "\n") == []
