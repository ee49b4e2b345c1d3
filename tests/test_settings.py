"""Settings: parsing, errors that never show values, and no secret in a dump."""

from __future__ import annotations

import logging

import pytest

from app.security.api_key import parse_api_keys
from app.settings import Settings, SettingsError, load_settings
from tests.conftest import SettingsFactory
from tests.helpers import ALICE_KEY, BOB_KEY


def test_app_env_defaults_to_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(env_file=None).app_env == "production"


def test_api_keys_parse_entries(make_settings: SettingsFactory) -> None:
    settings = make_settings(api_keys=f" alice:{ALICE_KEY} , ,bob:{BOB_KEY},")
    assert [entry.client_id for entry in settings.api_keys] == ["alice", "bob"]


def test_api_keys_accept_digest_entries() -> None:
    digest = "ab" * 32
    (entry,) = parse_api_keys(f"svc:sha256:{digest}")
    assert entry.client_id == "svc"
    assert entry.digest == bytes.fromhex(digest)
    assert entry.plain_key is None


@pytest.mark.parametrize("blank", ["", " ", "\t \n"])
def test_blank_api_keys_count_as_missing(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    monkeypatch.setenv("API_KEYS", blank)
    assert load_settings(env_file=None).api_keys == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("no-separator", "entry 1 must be client_id:key"),
        (f"alice:{ALICE_KEY},bob:", "entry 2 must be client_id:key"),
        (f"bad id:{ALICE_KEY}", "entry 1 has an invalid client id"),
        (f"alice:{ALICE_KEY} with space", "printable ASCII"),
        (f"alice:{ALICE_KEY},bob:{ALICE_KEY}", "repeats a key"),
    ],
)
def test_invalid_api_keys_error_names_variable_not_value(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("API_KEYS", value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    message = str(caught.value)
    assert "API_KEYS" in message
    assert reason in message
    assert ALICE_KEY not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_settings_repr_and_dump_hide_secrets(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        ai_api_key="upstream-" + ALICE_KEY,
        database_url=f"postgresql+psycopg://app:{BOB_KEY}@db/app",
    )
    for text in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
    ):
        assert ALICE_KEY not in text
        assert BOB_KEY not in text


def test_settings_never_logged_with_values(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("test").info("settings: %s", make_settings())
    assert ALICE_KEY not in caplog.text
    assert "alice" in caplog.text


def test_settings_are_not_read_at_import() -> None:
    import app.main

    assert "_app" in vars(app.main)
    assert app.main._app is None


def test_settings_reject_unknown_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(SettingsError, match="APP_ENV"):
        load_settings(env_file=None)


def test_secret_values_lists_every_secret(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        ai_api_key="upstream-key-1234567890",
        database_url="postgresql+psycopg://app:db-password-123@db/app",
        rate_limit_storage_uri="redis://:redis-password-456@cache:6379/0",
    )
    assert set(settings.secret_values()) == {
        ALICE_KEY,
        BOB_KEY,
        "upstream-key-1234567890",
        "db-password-123",
        "redis-password-456",
    }


def test_settings_type_is_frozen(make_settings: SettingsFactory) -> None:
    settings: Settings = make_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.app_env = "development"  # type: ignore[misc]
