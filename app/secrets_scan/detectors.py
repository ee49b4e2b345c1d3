"""Detectors for key formats that detect-secrets 1.5 does not recognise.

detect-secrets loads this file by path as a plugin module, so it imports
nothing but the standard library and detect-secrets itself. Each pattern is
anchored on both sides so that a longer token or a truncated example does
not match.
"""

from __future__ import annotations

import re
from collections.abc import Generator

from detect_secrets.plugins.base import RegexBasedDetector

# A character of the URL-safe base64 alphabet these providers use for keys.
_BASE64URL_CHAR = r"[A-Za-z0-9_\-]"
_NOT_TOKEN_BEFORE = rf"(?<!{_BASE64URL_CHAR})"
_NOT_TOKEN_AFTER = rf"(?!{_BASE64URL_CHAR})"


class AnthropicKeyDetector(RegexBasedDetector):
    """Anthropic API and admin keys: `sk-ant-<kind><2 digits>-` and about 95 characters."""

    secret_type = "Anthropic API Key"  # pragma: allowlist secret (a detector name)
    denylist = (
        re.compile(
            rf"{_NOT_TOKEN_BEFORE}sk-ant-[a-z]{{2,10}}[0-9]{{2}}-{_BASE64URL_CHAR}{{80,}}{_NOT_TOKEN_AFTER}"
        ),
    )


class GoogleAPIKeyDetector(RegexBasedDetector):
    """Google Cloud and Firebase API keys: `AIza` and exactly 35 more characters."""

    secret_type = "Google API Key"  # pragma: allowlist secret (a detector name)
    denylist = (re.compile(rf"{_NOT_TOKEN_BEFORE}AIza{_BASE64URL_CHAR}{{35}}{_NOT_TOKEN_AFTER}"),)


class OpenAIProjectKeyDetector(RegexBasedDetector):
    """OpenAI project, service-account and admin keys (`sk-proj-`, `sk-svcacct-`, `sk-admin-`).

    detect-secrets' own OpenAI detector wants 20 letters or digits on each
    side of the `T3BlbkFJ` marker. The current keys put `-` and `_` there,
    so most of them slip past it.
    """

    secret_type = "OpenAI Project Key"  # pragma: allowlist secret (a detector name)
    denylist = (
        re.compile(
            rf"{_NOT_TOKEN_BEFORE}sk-(?:proj|svcacct|admin)-{_BASE64URL_CHAR}{{40,}}{_NOT_TOKEN_AFTER}"
        ),
    )


class GitHubFineGrainedTokenDetector(RegexBasedDetector):
    """GitHub fine-grained personal access tokens: `github_pat_`, 22 and 59 characters.

    detect-secrets covers the classic `ghp_`, `gho_`, `ghu_`, `ghs_` and
    `ghr_` tokens, not this format.
    """

    secret_type = "GitHub Fine-Grained Token"  # pragma: allowlist secret (a detector name)
    denylist = (
        re.compile(
            rf"{_NOT_TOKEN_BEFORE}github_pat_[A-Za-z0-9]{{22}}_[A-Za-z0-9]{{59}}{_NOT_TOKEN_AFTER}"
        ),
    )


# One API_KEYS entry, `client_id:key`. A `client_id:sha256:<64 hex>` entry
# does not match, because ':' is not a key character. That is on purpose:
# the SHA-256 digest of a random key reveals nothing of the key, the service
# rejects the digest sent as a key, and it is the form meant for committed
# configuration.
_ENTRY = re.compile(rf"[A-Za-z0-9._\-]{{1,64}}:(?P<key>{_BASE64URL_CHAR}{{20,}})")

# A value in a shell, env, YAML or Dockerfile line ends at whitespace, a
# quote, or the punctuation that closes a command or a flow list. `$`, `{`,
# `<` and `.` stay inside it, so `${KEY}`, `{ALICE_KEY}`, `<key>` and `...`
# make the entry fail to match instead of leaving a key-shaped prefix.
_VALUE_PART = r"""[^\s,'"`;)\]}]*"""
_ASSIGNMENT = re.compile(
    # `API_KEYS=`, `API_KEYS: `, `ENV API_KEYS `, `"API_KEYS": "`,
    # `environ["API_KEYS"] = "` and `setenv("API_KEYS", "`.
    r"""(?<![A-Za-z0-9_])API_KEYS['"]?\]?(?:[ \t]*[:=,][ \t]*|[ \t]+)['"]?"""
    rf"(?P<value>{_VALUE_PART}(?:[ \t]*,[ \t]*{_VALUE_PART})*)",
    re.IGNORECASE,
)
_HEADER = re.compile(
    # `X-API-Key: <key>` in a header line, or `"X-API-Key": "<key>"` in a
    # dict or JSON. Requiring the quotes on both sides keeps
    # `"X-API-Key": key_variable` out.
    r"""(?<![A-Za-z0-9_\-])X-API-Key(?:[ \t]*:[ \t]*|['"][ \t]*:[ \t]*['"])"""
    rf"(?P<key>{_BASE64URL_CHAR}{{20,}}){_NOT_TOKEN_AFTER}",
    re.IGNORECASE,
)


class ClientAPIKeyDetector(RegexBasedDetector):
    """Keys of this service's clients: each key of an `API_KEYS` value, and an `X-API-Key` header.

    `python -m app new-key` makes 43 URL-safe characters; 20 or more count
    here. The assignment is found in env files, shell, YAML (`API_KEYS:`),
    Dockerfile `ENV` and compose lists, with several comma-separated
    entries, each key reported. The header is found in `curl -H` lines,
    HTTP examples and logs. A value of words in one letter case without
    digits (`your-key-here`) is a placeholder, not a key.
    """

    secret_type = "Client API Key"  # pragma: allowlist secret (a detector name)
    denylist = (_ASSIGNMENT, _HEADER)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        keys = [match["key"] for match in _HEADER.finditer(string)]
        for match in _ASSIGNMENT.finditer(string):
            entries = (_ENTRY.fullmatch(entry.strip()) for entry in match["value"].split(","))
            keys.extend(entry["key"] for entry in entries if entry)
        yield from (key for key in keys if _looks_random(key))


def _looks_random(key: str) -> bool:
    # A generated key of 20 URL-safe characters lacks both a digit and one of
    # the letter cases with a chance of about 1 in 7 million, far less at 43.
    has_both_cases = any(c.islower() for c in key) and any(c.isupper() for c in key)
    return has_both_cases or any(c.isdigit() for c in key)
