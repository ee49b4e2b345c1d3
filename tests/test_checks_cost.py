"""Production refuses to start with an unsafe AI provider or rate-limit configuration."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from app.checks import UnsafeConfigurationError, check_ai, check_rate_limits
from app.main import create_app
from app.settings import SettingsError, load_settings
from tests.conftest import SettingsFactory
from tests.helpers import PRODUCTION_SETTINGS

PROVIDER_KEY = secrets.token_urlsafe(24)


@pytest.mark.parametrize(
    ("change", "variable", "expected"),
    [
        ({"ai_provider": None}, "AI_PROVIDER", "no AI provider is named"),
        (
            {"ai_allow_offline_in_production": False},
            "AI_PROVIDER",
            "set AI_ALLOW_OFFLINE_IN_PRODUCTION=true to keep it",
        ),
        ({"ai_provider": "anthropic"}, "AI_API_KEY", "AI_PROVIDER=anthropic needs a key"),
        ({"ai_provider": "openai", "ai_api_key": "  "}, "AI_API_KEY", "needs a key"),
        (
            {"rate_limit_storage_uri": "memory://", "web_concurrency": 2},
            "RATE_LIMIT_STORAGE_URI",
            "memory:// with WEB_CONCURRENCY above 1",
        ),
    ],
    ids=[
        "provider-unset",
        "offline-not-allowed",
        "anthropic-no-key",
        "openai-blank-key",
        "memory-two-workers",
    ],
)
def test_production_start_refused(
    make_settings: SettingsFactory, change: dict[str, Any], variable: str, expected: str
) -> None:
    settings = make_settings(**{**PRODUCTION_SETTINGS, **change})

    with pytest.raises(UnsafeConfigurationError) as caught:
        create_app(settings)

    [problem] = caught.value.problems
    assert problem.subject == variable
    assert expected in problem.message


def test_base_url_with_credentials_is_refused(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        **{
            **PRODUCTION_SETTINGS,
            "ai_provider": "openai",
            "ai_api_key": PROVIDER_KEY,
            "ai_base_url": f"https://user:{PROVIDER_KEY}@llm.internal/v1",
        }
    )

    [problem] = check_ai(settings)

    assert problem.subject == "AI_BASE_URL"
    assert PROVIDER_KEY not in str(problem)


def test_plain_http_base_url_warns(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        **{
            **PRODUCTION_SETTINGS,
            "ai_provider": "openai",
            "ai_api_key": PROVIDER_KEY,
            "ai_base_url": "http://llm.internal/v1",
        }
    )

    [problem] = check_ai(settings)

    assert problem.subject == "AI_BASE_URL"
    assert problem.severity == "warning"
    assert "use https" in problem.message


def test_provider_with_key_starts(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        **{**PRODUCTION_SETTINGS, "ai_provider": "openai", "ai_api_key": PROVIDER_KEY}
    )

    assert check_ai(settings) == []
    assert create_app(settings).state.settings.ai_provider == "openai"


def test_redis_with_two_workers_passes(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        **PRODUCTION_SETTINGS, rate_limit_storage_uri="redis://127.0.0.1:6379/0", web_concurrency=2
    )

    assert check_rate_limits(settings) == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FORWARDED_ALLOW_IPS", "10.0.0.1,*", "entry 2 is '*'"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1,proxy.example", "entry 2 is not an IP address"),
        ("ANALYZE_RATE_LIMIT", "lots", "must be one limit such as"),
        ("IMPORT_RATE_LIMIT", "5 per fortnight", "must be one limit"),
        ("AUTH_FAILURE_RATE_LIMIT", "0/minute", "at least one"),
    ],
)
def test_invalid_cost_setting_stops_loading(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    # Invalid in every environment: the settings never load, so no app is built.
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    [message] = caught.value.messages
    assert message.startswith(f"{variable}: ")
    assert expected in message
