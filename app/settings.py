"""Service settings, read from the environment by pydantic-settings.

`load_settings()` is the only place that reads the environment. The app,
the command line and the tests receive a `Settings` object instead of
importing a module-level instance, so a test can build any configuration
without patching globals.

Secrets are `SecretStr` or hidden behind their own `repr`, so printing,
logging or dumping a `Settings` object never shows a key or a password.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.security.api_key import APIKeyEntry, parse_api_keys
from app.security.client_ip import TrustedProxies
from app.security.cors import ANY_ORIGIN, parse_allowed_origins
from app.security.rate_limit import parse_limit
from app.security.trusted_hosts import parse_allowed_hosts

Environment = Literal["production", "development", "test"]
AIProvider = Literal["offline", "anthropic", "openai"]

# Host names accepted when ALLOWED_HOSTS is unset outside production.
# `testserver` is the name Starlette's test client sends. It has no dot, so
# no public site (a DNS-rebinding page, say) can be served under it.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "testserver")


class SettingsError(Exception):
    """Settings that cannot be read: each message names the variable, never its value."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("invalid settings:\n" + "\n".join(f"  - {m}" for m in messages))


def _split_list(value: object, variable: str) -> object:
    """Accept a JSON list or a comma-separated string for a list variable.

    pydantic-settings decodes list fields as JSON by default, so `a,b` would
    fail; the fields using this are marked `NoDecode` and parsed here.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{variable} starts with '[' but is not a valid JSON list") from None
        if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
            raise ValueError(f"{variable} must be a JSON list of strings")
        items = decoded
    else:
        items = text.split(",")
    return [item.strip() for item in items if item.strip()]


class Settings(BaseSettings):
    """Every setting the service reads, named as its environment variable in upper case."""

    model_config = SettingsConfigDict(
        # An empty variable counts as unset, so `API_KEYS=` can never become
        # a valid (empty) secret; whitespace-only values are stripped below.
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    app_env: Environment = "production"

    # Authentication. Parsed into entries once, at start.
    api_keys: Annotated[tuple[APIKeyEntry, ...], NoDecode] = ()

    # Browser boundary.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Storage. Both URLs may carry a password, so they are secrets.
    database_url: SecretStr | None = None
    data_dir: Path = Path("data")
    rate_limit_storage_uri: SecretStr = SecretStr("memory://")
    # Prefix of every key in that storage, so services sharing a Redis do
    # not share counters.
    rate_limit_key_prefix: str = Field(default="hardened-api", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    # Proxies whose X-Forwarded-For is trusted; empty trusts none.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # AI provider behind POST /api/analyze. Unset means offline in
    # development and test; production must name a provider.
    ai_provider: AIProvider | None = None
    ai_api_key: SecretStr | None = None
    ai_base_url: str | None = None
    ai_model: str | None = None
    ai_allow_offline_in_production: bool = False
    ai_max_text_chars: int = Field(default=8000, ge=1, le=100_000)
    ai_max_tokens: int = Field(default=512, ge=1, le=8192)
    # Seconds: to connect, between bytes read, and for the whole upstream call.
    ai_connect_timeout: float = Field(default=5.0, gt=0, le=60)
    ai_read_timeout: float = Field(default=30.0, gt=0, le=300)
    ai_deadline: float = Field(default=45.0, gt=0, le=600)

    # Cost controls: limits in the `limits` notation ("10/minute"), and
    # daily budgets per UTC day (0 turns a budget off): per client, and for
    # all clients together.
    analyze_rate_limit: str = "10/minute"
    import_rate_limit: str = "5/minute"
    auth_failure_rate_limit: str = "20/minute"
    ai_daily_budget_calls: int = Field(default=200, ge=0)
    ai_daily_budget_tokens: int = Field(default=200_000, ge=0)
    ai_daily_budget_total_calls: int = Field(default=1000, ge=0)
    ai_daily_budget_total_tokens: int = Field(default=1_000_000, ge=0)

    # Request bodies, in bytes, and the private folder for upload files.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    upload_tmp_dir: Path = Path("data/uploads")
    # Bounds on an imported spreadsheet: data rows, and the bytes an .xlsx
    # (a ZIP archive) may expand to, so a ZIP bomb is refused unread.
    import_max_rows: int = Field(default=1000, ge=1, le=100_000)
    import_max_expanded_bytes: int = Field(default=50 * 1024 * 1024, ge=1)

    # Server process.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int = Field(default=1, ge=1, le=64)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Interactive API docs (/docs, /redoc, /openapi.json). Unset means on in
    # development and test, off in production.
    docs_enabled: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _strip_blank(cls, value: Any) -> Any:
        # A whitespace-only variable is as unset as an empty one.
        if isinstance(value, str):
            stripped = value.strip()
            return None if stripped == "" else stripped
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            return parse_api_keys(value.strip())
        return value

    @field_serializer("api_keys")
    def _serialize_api_keys(self, entries: tuple[APIKeyEntry, ...]) -> list[str]:
        # A dump (model_dump, JSON) shows which clients have keys, never a key.
        return [f"{entry.client_id}:**********" for entry in entries]

    @field_validator("allowed_origins", "allowed_hosts", "forwarded_allow_ips", mode="before")
    @classmethod
    def _parse_list(cls, value: Any, info: Any) -> Any:
        if value is None:
            return []
        return _split_list(value, str(info.field_name).upper())

    @field_validator("allowed_origins", mode="after")
    @classmethod
    def _normalize_origins(cls, value: list[str], info: ValidationInfo) -> list[str]:
        # Rejects at start any entry a browser's Origin could never match
        # (a trailing slash, a path, no scheme), naming the entry.
        origins = parse_allowed_origins(value)
        if ANY_ORIGIN in origins and info.data.get("app_env") == "test":
            # Production's rejection is in checks.check_cors, so that
            # `python -m app check` reports it with every other problem.
            raise ValueError("'*' is accepted only with APP_ENV=development; list the origins")
        return origins

    @field_validator("cors_allow_credentials", mode="after")
    @classmethod
    def _check_credentials(cls, value: bool, info: ValidationInfo) -> bool:
        # Declared after allowed_origins, so its parsed value is in info.data.
        if value and ANY_ORIGIN in info.data.get("allowed_origins", []):
            raise ValueError(
                "true cannot be combined with ALLOWED_ORIGINS='*', which would let any site "
                "send credentialed requests; list the origins in ALLOWED_ORIGINS instead"
            )
        return value

    @field_validator("allowed_hosts", mode="after")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        return parse_allowed_hosts(value)

    @field_validator("analyze_rate_limit", "import_rate_limit", "auth_failure_rate_limit")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        # Checked here, in every environment, so the limiter built from
        # these values at start cannot fail on them.
        parse_limit(value, "the value")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        try:
            TrustedProxies.parse(value)
        except ValueError as error:
            raise ValueError(f"{error}; list only the IPs or CIDRs of your own proxies") from None
        return value

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def allow_all_origins(self) -> bool:
        """Return whether CORS allows every origin: `*` in development only."""
        return self.app_env == "development" and ANY_ORIGIN in self.allowed_origins

    @property
    def trusted_hosts(self) -> list[str]:
        """Return the Host allowlist: ALLOWED_HOSTS, or local names outside production.

        Production without ALLOWED_HOSTS gets an empty list, which rejects
        every request; checks.check_hosts refuses that start first.
        """
        if self.allowed_hosts or self.is_production:
            return list(self.allowed_hosts)
        return list(LOCAL_HOSTS)

    @property
    def show_docs(self) -> bool:
        """Return whether the interactive docs are served: never in production."""
        if self.is_production:
            return False
        return True if self.docs_enabled is None else self.docs_enabled

    def secret_values(self) -> list[str]:
        """Return every configured secret, for the log filter that redacts them."""
        values = [entry.plain_key for entry in self.api_keys if entry.plain_key]
        if self.ai_api_key is not None:
            values.append(self.ai_api_key.get_secret_value())
        for url in (self.database_url, self.rate_limit_storage_uri):
            if url is not None:
                password = urlsplit(url.get_secret_value()).password
                if password:
                    values.append(password)
        return values

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'app.db'}"


def load_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Read settings from the environment (and `env_file`), with clear errors.

    A pydantic `ValidationError` shows the rejected input, which may be a
    key, so it is replaced by `SettingsError` listing only each variable and
    the reason. `from None` drops the original from the traceback too.
    """
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        messages = []
        for error in exc.errors(include_input=False, include_url=False):
            variable = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            reason = error["msg"].removeprefix("Value error, ")
            messages.append(f"{variable}: {reason}")
        raise SettingsError(messages) from None
