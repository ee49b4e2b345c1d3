"""Run detect-secrets' detectors, and the ones in detectors.py, over text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import get_plugins, transient_settings

from . import detectors

# IP addresses are not credentials, and docs and tests name public ones.
_DISABLED_PLUGINS = frozenset({"IPPublicDetector"})
_OWN_PLUGINS = (
    detectors.AnthropicKeyDetector,
    detectors.GoogleAPIKeyDetector,
    detectors.OpenAIProjectKeyDetector,
    detectors.GitHubFineGrainedTokenDetector,
    detectors.ClientAPIKeyDetector,
)

# Filters that only read the line or the secret. The heuristics drop
# template values, `$VARIABLE`s, UUIDs and the like; the allowlist filter
# honours the inline `pragma: allowlist secret` marker. The verification
# filter is left out on purpose: it would send each secret to its provider.
_FILTERS = (
    "detect_secrets.filters.allowlist.is_line_allowlisted",
    "detect_secrets.filters.heuristic.is_sequential_string",
    "detect_secrets.filters.heuristic.is_potential_uuid",
    "detect_secrets.filters.heuristic.is_likely_id_string",
    "detect_secrets.filters.heuristic.is_templated_secret",
    "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign",
    "detect_secrets.filters.heuristic.is_indirect_reference",
    "detect_secrets.filters.heuristic.is_not_alphanumeric_string",
)


# Detectors that match any long random or keyword-assigned value, not a format.
_GENERIC_DETECTORS = frozenset(
    {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
)


@dataclass(frozen=True)
class RawFinding:
    """A secret found in one text, before it is masked; never leaves this package."""

    line: int
    detector: str
    value: str
    secret_hash: str


def _plugin_config() -> list[dict[str, str]]:
    plugin_classes: list[type[Any]] = list(get_mapping_from_secret_type_to_class().values())
    builtin_names = [plugin.__name__ for plugin in plugin_classes]
    builtin = [
        {"name": name}
        for name in builtin_names
        if name not in _DISABLED_PLUGINS and name not in {p.__name__ for p in _OWN_PLUGINS}
    ]
    # detect-secrets imports custom plugins from a file path, not a module name.
    own_path = f"file://{Path(detectors.__file__).resolve()}"
    own = [{"name": plugin.__name__, "path": own_path} for plugin in _OWN_PLUGINS]
    return builtin + own


@contextmanager
def detect_secrets_configured() -> Iterator[None]:
    """Configure detect-secrets' global settings for one scan, and restore them after.

    detect-secrets keeps its settings in one global object, so two scans must
    not run at once in one process (in two threads, say).
    """
    config = {
        "plugins_used": _plugin_config(),
        "filters_used": [{"path": path} for path in _FILTERS],
    }
    with transient_settings(config):
        # detect-secrets caches the plugin classes it found; the cache must
        # see the custom plugin paths just configured, and forget them after.
        get_mapping_from_secret_type_to_class.cache_clear()
        get_plugins.cache_clear()
        try:
            yield
        finally:
            get_mapping_from_secret_type_to_class.cache_clear()
            get_plugins.cache_clear()


# (file extension, previous line, line) -> what detect-secrets found on such a
# line, numbered 0. The extension picks detect-secrets' per-language rules,
# and the previous line may carry a `pragma: allowlist nextline` marker.
LineCache = dict[tuple[str, str, str], tuple[RawFinding, ...]]


def scan_text(path: str, text: str, cache: LineCache | None = None) -> list[RawFinding]:
    """Return the secrets in `text`; `path` lets detectors and filters use the file type.

    With a `cache`, lines already scanned in the same context are not
    scanned again: the versions of a file in history repeat most lines.
    Call inside `detect_secrets_configured()`.
    """
    lines = text.splitlines()
    if cache is None:
        return _keep_specific(_run_detectors(path, list(enumerate(lines, start=1))))

    extension = os.path.splitext(path)[1]
    keys = [
        (extension, lines[index - 1] if index else "", line) for index, line in enumerate(lines)
    ]

    # Scan only the lines not in the cache, each after its previous line so
    # that an allowlist marker there still applies. Findings on such context
    # lines are dropped; the cache or the line's own scan covers them.
    selected: list[tuple[int, str]] = []
    line_index: dict[int, int] = {}
    for index, key in enumerate(keys):
        if key in cache:
            continue
        if index > 0 and (not selected or line_index.get(len(selected)) != index - 1):
            selected.append((len(selected) + 1, lines[index - 1]))
        selected.append((len(selected) + 1, lines[index]))
        line_index[len(selected)] = index

    fresh: dict[int, list[RawFinding]] = {index: [] for index in line_index.values()}
    for finding in _run_detectors(path, selected):
        if finding.line in line_index:
            fresh[line_index[finding.line]].append(replace(finding, line=0))
    for index, found in fresh.items():
        cache[keys[index]] = tuple(found)

    results = [
        replace(finding, line=index + 1) for index, key in enumerate(keys) for finding in cache[key]
    ]
    return _keep_specific(results)


def _run_detectors(path: str, lines: list[tuple[int, str]]) -> list[RawFinding]:
    # NOTE: _process_line_based_plugins is private in detect-secrets 1.5, and
    # the lock file pins that version. The public scan_file reads only files
    # on disk, which history blobs are not.
    return [
        RawFinding(
            line=secret.line_number,
            detector=secret.type,
            value=secret.secret_value,
            secret_hash=secret.secret_hash,
        )
        for secret in _process_line_based_plugins(lines, filename=path)
        if secret.secret_value is not None
    ]


def _keep_specific(findings: list[RawFinding]) -> list[RawFinding]:
    # A key often matches a format detector and a generic one at once. Each
    # value on a line is kept once, under the more specific detector name.
    best: dict[tuple[int, str], RawFinding] = {}
    for finding in findings:
        key = (finding.line, finding.secret_hash)
        if key not in best or _rank(finding) < _rank(best[key]):
            best[key] = finding

    # A generic detector may also report a whole quoted value that contains
    # such a key, as `"dev:<key>"`. The key's own finding covers it.
    specific = [finding for finding in best.values() if finding.detector not in _GENERIC_DETECTORS]
    reported = [
        finding
        for finding in best.values()
        if finding.detector not in _GENERIC_DETECTORS
        or not any(
            other.line == finding.line and other.value in finding.value for other in specific
        )
    ]
    return sorted(reported, key=lambda finding: (finding.line, finding.detector))


def _rank(finding: RawFinding) -> tuple[bool, str]:
    # Format detectors first; the name breaks ties so the output is stable.
    return finding.detector in _GENERIC_DETECTORS, finding.detector
