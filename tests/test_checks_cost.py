"""Production refuses to start with an unsafe AI provider or rate-limit configuration."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from app.checks import UnsafeConfigurationError, check_ai, check_rate_limits
from app.main import create_app
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
        ({"forwarded_allow_ips": "10.0.0.1,*"}, "FORWARDED_ALLOW_IPS", "entry 2 is '*'"),
        ({"analyze_rate_limit": "lots"}, "ANALYZE_RATE_LIMIT", "must be one limit such as"),
        ({"import_rate_limit": "5 per fortnight"}, "IMPORT_RATE_LIMIT", "must be one limit"),
        ({"auth_failure_rate_limit": "0/minute"}, "AUTH_FAILURE_RATE_LIMIT", "at least one"),
    ],
    ids=[
        "provider-unset",
        "offline-not-allowed",
        "anthropic-no-key",
        "openai-blank-key",
        "memory-two-workers",
        "proxy-wildcard",
        "analyze-limit",
        "import-limit",
        "auth-failure-limit",
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
