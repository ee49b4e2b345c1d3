"""Production gate: every unsafe setting or route, reported at once.

`find_settings_problems` (the settings rules), `route_problem` (the route
rules, found by app/security/route_inventory.py) and
`find_environment_problems` (warnings) are run by `python -m app check`
before a deploy and by `create_app` at start. In production an error stops
the start; a warning is logged. Each message names the variable or route
and the fix, never a value.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from app.security.cors import ANY_ORIGIN
from app.security.route_inventory import DEBUG_ROUTE_REASON, RouteProblem
from app.settings import Settings

MIN_KEY_LENGTH = 32
NEW_KEY_COMMAND = "python -m app new-key"

# Substrings of keys copied from examples or typed by hand.
_PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "replace",
    "example",
    "placeholder",
    "your-api-key",
    "your_api_key",
    "yourapikey",
    "secret",
    "password",
    "dummy",
    "sample",
    "xxxxxxxx",
    "12345678",
)


@dataclass(frozen=True)
class Problem:
    """One unsafe setting or route: where it is, what is wrong, and the fix."""

    subject: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.subject}: {self.message}"


class UnsafeConfigurationError(Exception):
    """The service refuses to start; `problems` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"refusing to start in production:\n{lines}")


def looks_like_placeholder(key: str) -> bool:
    """Return whether a key looks copied from an example or typed by hand."""
    lowered = key.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    # A generated key of 32+ characters has far more than 8 distinct characters.
    return len(set(key)) < 8


def check_api_keys(settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    if not settings.api_keys:
        problems.append(
            Problem(
                "API_KEYS",
                "no API key is set, so no request could be authenticated; set it to "
                f"client_id:key entries, with keys from `{NEW_KEY_COMMAND}`",
            )
        )
    for position, entry in enumerate(settings.api_keys, start=1):
        key = entry.plain_key
        if key is None:
            continue  # stored as a SHA-256 digest: its length is not known here
        if len(key) < MIN_KEY_LENGTH:
            problems.append(
                Problem(
                    "API_KEYS",
                    f"the key of entry {position} (client {entry.client_id!r}) is shorter than "
                    f"{MIN_KEY_LENGTH} characters; replace it with one from `{NEW_KEY_COMMAND}`",
                )
            )
        elif looks_like_placeholder(key):
            problems.append(
                Problem(
                    "API_KEYS",
                    f"the key of entry {position} (client {entry.client_id!r}) looks like a "
                    f"placeholder; replace it with one from `{NEW_KEY_COMMAND}`",
                )
            )
    return problems


def check_docs(settings: Settings) -> list[Problem]:
    if settings.docs_enabled:
        return [
            Problem(
                "DOCS_ENABLED",
                "the interactive API docs show every route and schema to anyone; "
                "unset DOCS_ENABLED in production (the docs stay off there regardless)",
            )
        ]
    return []


# Folders every local user can write to; uploads need a folder of their own.
_SHARED_TEMP_FOLDERS = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))  # noqa: S108  # refused here


def check_uploads(settings: Settings) -> list[Problem]:
    folder = settings.upload_tmp_dir.resolve()
    if folder in _SHARED_TEMP_FOLDERS or folder == Path(tempfile.gettempdir()).resolve():
        return [
            Problem(
                "UPLOAD_TMP_DIR",
                "points to a temp folder shared with every local user, who could read "
                "uploads there; set it to a folder of the service's own, such as data/uploads",
            )
        ]
    return []


def check_cors(settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    if ANY_ORIGIN in settings.allowed_origins:
        problems.append(
            Problem(
                "ALLOWED_ORIGINS",
                "'*' lets every web site call this API from its visitors' browsers; "
                "list the origins that need access, such as https://app.example.com, "
                "or leave it unset for no cross-origin access",
            )
        )
    for origin in settings.allowed_origins:
        if origin.startswith("http://"):
            # An origin is not secret, so naming it is safe and helps.
            problems.append(
                Problem(
                    "ALLOWED_ORIGINS",
                    f"{origin} uses plain http, so anyone on its network path can run script "
                    "as that origin; use its https:// origin",
                    severity="warning",
                )
            )
    return problems


def check_hosts(settings: Settings) -> list[Problem]:
    if not settings.allowed_hosts:
        return [
            Problem(
                "ALLOWED_HOSTS",
                "no Host allowlist is set, so every request would be rejected; set it to the "
                "names clients use, comma-separated, such as api.example.com",
            )
        ]
    return []


def check_ai(settings: Settings) -> list[Problem]:
    provider = settings.ai_provider
    if provider is None:
        return [
            Problem(
                "AI_PROVIDER",
                "no AI provider is named; set AI_PROVIDER to anthropic or openai (with "
                "AI_API_KEY), or to offline with AI_ALLOW_OFFLINE_IN_PRODUCTION=true",
            )
        ]

    problems: list[Problem] = []
    if provider == "offline" and not settings.ai_allow_offline_in_production:
        problems.append(
            Problem(
                "AI_PROVIDER",
                "the offline analyser answers instead of a real model; set AI_PROVIDER to "
                "anthropic or openai, or set AI_ALLOW_OFFLINE_IN_PRODUCTION=true to keep it",
            )
        )
    api_key = settings.ai_api_key.get_secret_value() if settings.ai_api_key else ""
    if provider != "offline" and not api_key:
        problems.append(
            Problem(
                "AI_API_KEY",
                f"AI_PROVIDER={provider} needs a key; set AI_API_KEY to the provider's key",
            )
        )
    if settings.ai_base_url and urlsplit(settings.ai_base_url).password is not None:
        problems.append(
            Problem(
                "AI_BASE_URL",
                "the URL holds credentials, which end up in logs and errors; remove them "
                "and put the provider's key in AI_API_KEY",
            )
        )
    base_url = urlsplit(settings.ai_base_url or "")
    if base_url.scheme == "http" and base_url.hostname not in {"127.0.0.1", "::1", "localhost"}:
        problems.append(
            Problem(
                "AI_BASE_URL",
                "plain http sends the provider key unencrypted over the network; use https",
                "warning",
            )
        )
    if settings.ai_deadline < settings.ai_connect_timeout:
        problems.append(
            Problem(
                "AI_DEADLINE",
                "the deadline is shorter than AI_CONNECT_TIMEOUT; raise AI_DEADLINE",
                "warning",
            )
        )
    return problems


def check_rate_limits(settings: Settings) -> list[Problem]:
    # Limit strings and FORWARDED_ALLOW_IPS are checked when the settings
    # load, in every environment, so a Settings object never holds a bad one.
    problems: list[Problem] = []
    scheme = urlsplit(settings.rate_limit_storage_uri.get_secret_value()).scheme
    if scheme not in {"memory", "redis", "rediss"}:
        problems.append(
            Problem(
                "RATE_LIMIT_STORAGE_URI",
                "must start with memory://, redis:// or rediss://",
            )
        )
    if scheme == "memory" and settings.web_concurrency > 1:
        problems.append(
            Problem(
                "RATE_LIMIT_STORAGE_URI",
                "memory:// with WEB_CONCURRENCY above 1 lets each worker count alone, which "
                "multiplies every limit and budget; set RATE_LIMIT_STORAGE_URI to redis://...",
            )
        )
    return problems


def find_settings_problems(settings: Settings) -> list[Problem]:
    """Return the problems a production start with these settings would have.

    Add each new `check_<area>` function here: the server start and
    `python -m app check` both call this function and nothing else for
    settings, so a rule added here applies to both.
    """
    return [
        *check_api_keys(settings),
        *check_docs(settings),
        *check_cors(settings),
        *check_hosts(settings),
        *check_uploads(settings),
        *check_ai(settings),
        *check_rate_limits(settings),
    ]


def find_environment_problems(settings: Settings, env_file: Path) -> list[Problem]:
    """Return warnings about where the settings came from, not their values."""
    problems: list[Problem] = []
    if not settings.is_production:
        problems.append(
            Problem(
                "APP_ENV",
                f"is {settings.app_env}, so the server skips these rules at start; "
                "unset APP_ENV (production is the default) for a deployment",
                severity="warning",
            )
        )
    if settings.is_production and env_file.is_file():
        problems.append(
            Problem(
                str(env_file),
                "a .env file is read in production, where settings should come from the "
                "platform's environment or secret store; delete the file from the deployment",
                severity="warning",
            )
        )
    return problems


def route_problem(problem: RouteProblem) -> Problem:
    """Turn a route inventory finding into a start-up problem with its fix."""
    if problem.reason == DEBUG_ROUTE_REASON:
        fix = "remove the route from the app, or rename it if it is not a diagnostic route"
    else:
        fix = "protect it with the API key or add it to PUBLIC_ROUTES in app/main.py"
    return Problem(f"route {problem.method} {problem.path}", f"{problem.reason}; {fix}")


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]
