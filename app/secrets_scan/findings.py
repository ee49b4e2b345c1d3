"""Scan results: where each secret is and which detector found it, never the secret itself."""

from __future__ import annotations

from dataclasses import dataclass

SHOWN_CHARACTERS = 4


@dataclass(frozen=True)
class Finding:
    """One secret found in a file, with the value masked.

    `commit` is the first commit that contains the secret at `path` in a
    history scan, and None in a working-tree or staged scan. `secret_hash`
    is the SHA-1 of the value, as in detect-secrets' baselines, and is what
    an allowlist entry names.
    """

    path: str
    line: int
    detector: str
    masked_value: str
    secret_hash: str
    commit: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.commit is not None:
            where = f"{self.commit[:12]} {where}"
        return f"{where}: {self.detector}: {self.masked_value} (hash {self.secret_hash})"


def mask(value: str) -> str:
    """Return the first few characters of `value` and its length, never the whole value.

    A quarter of the value at most is shown, so a short secret keeps most of
    its characters hidden.
    """
    shown = min(SHOWN_CHARACTERS, len(value) // 4)
    return f"{value[:shown]}******** ({len(value)} characters)"
