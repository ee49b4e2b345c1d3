"""`.env.example` names every setting the code reads, nothing else, and no secret value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import SecretStr

from app.secrets_scan.engine import detect_secrets_configured, scan_text
from app.settings import Settings
from tests.secrets_scan.keys import anthropic_key

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / ".env.example"
_VARIABLE = re.compile(r"(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)")


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def secret_setting_names() -> set[str]:
    return {
        name.upper()
        for name, field in Settings.model_fields.items()
        # API_KEYS is parsed into entries, not a SecretStr, but contains keys.
        if SecretStr in (field.annotation, *get_args(field.annotation)) or name == "api_keys"
    }


def read_variables(text: str) -> dict[str, str]:
    """Return each `NAME=value` line of an env file; a name given twice raises."""
    variables: dict[str, str] = {}
    for line in text.splitlines():
        match = _VARIABLE.fullmatch(line.strip())
        if match is None:
            continue
        if match["name"] in variables:
            raise ValueError(f"{match['name']} is set twice")
        variables[match["name"]] = match["value"]
    return variables


def uncommented_names(text: str) -> list[str]:
    """Return the variables with no comment above them or above their group."""
    names = []
    previous = ""
    for line in text.splitlines():
        stripped = line.strip()
        match = _VARIABLE.fullmatch(stripped)
        if match is not None and not (previous.startswith("#") or _VARIABLE.fullmatch(previous)):
            names.append(match["name"])
        previous = stripped
    return names


def secret_findings(text: str) -> list[str]:
    with detect_secrets_configured():
        return [finding.detector for finding in scan_text(".env.example", text)]


def test_env_example_lists_every_setting() -> None:
    missing = setting_names() - set(read_variables(EXAMPLE.read_text()))
    assert missing == set(), "add these settings to .env.example, with a comment"


def test_env_example_names_only_settings() -> None:
    unknown = set(read_variables(EXAMPLE.read_text())) - setting_names()
    assert unknown == set(), "remove these from .env.example, or add them to Settings"


def test_env_example_comments_every_setting() -> None:
    assert uncommented_names(EXAMPLE.read_text()) == []


def test_env_example_secrets_are_empty() -> None:
    variables = read_variables(EXAMPLE.read_text())
    assert {name: variables[name] for name in secret_setting_names()} == {
        name: "" for name in secret_setting_names()
    }


def test_env_example_holds_no_secret() -> None:
    assert secret_findings(EXAMPLE.read_text()) == []


def test_secret_setting_names_cover_keys() -> None:
    assert {"API_KEYS", "AI_API_KEY", "DATABASE_URL"} <= secret_setting_names()


@pytest.mark.xfail(strict=True, reason="the faulty example: a real-looking key in a comment")
def test_secret_check_catches_key_in_example() -> None:
    faulty = EXAMPLE.read_text() + f"# For example: {anthropic_key()}\n"
    assert secret_findings(faulty) == []


@pytest.mark.xfail(strict=True, reason="the faulty example: a setting left out")
def test_missing_check_catches_left_out_setting() -> None:
    faulty = EXAMPLE.read_text().replace("\nAI_API_KEY=\n", "\n")
    assert setting_names() - set(read_variables(faulty)) == set()
