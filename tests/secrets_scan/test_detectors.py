"""The detectors added for formats detect-secrets 1.5 lacks: each format, each near miss."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.secrets_scan.engine import detect_secrets_configured, scan_text
from tests.secrets_scan.keys import (
    anthropic_key,
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
