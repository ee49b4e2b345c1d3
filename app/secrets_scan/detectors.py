"""Detectors for key formats that detect-secrets 1.5 does not recognise.

detect-secrets loads this file by path as a plugin module, so it imports
nothing but `re` and detect-secrets itself. Each pattern is anchored on both
sides so that a longer token or a truncated example does not match.
"""

from __future__ import annotations

import re

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
