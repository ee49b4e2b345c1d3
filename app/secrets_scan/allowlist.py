"""The allowlist file: findings that were reviewed and are not secrets, each with a reason.

Each line of `.secrets-allowlist`, at the repository root, reads

    <secret hash> <path> <reason>

where the hash and path are copied from the scan's output. A finding is
dropped when both match. Lines starting with `#` and blank lines are
skipped. One entry a line keeps merges of several branches simple.
"""

from __future__ import annotations

import re
from pathlib import Path

from .findings import Finding

ALLOWLIST_FILE = ".secrets-allowlist"
_ENTRY = re.compile(r"(?P<hash>[0-9a-f]{40})\s+(?P<path>\S+)\s+(?P<reason>\S.*)")


class AllowlistError(ValueError):
    """An allowlist line that cannot be read."""


def load_allowlist(root: Path) -> frozenset[tuple[str, str]]:
    """Return the (secret hash, path) pairs listed in `root`'s allowlist file, if it exists."""
    path = root / ALLOWLIST_FILE
    if not path.is_file():
        return frozenset()

    entries = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _ENTRY.fullmatch(text)
        if match is None:
            raise AllowlistError(
                f"{ALLOWLIST_FILE}:{number}: invalid entry; expected "
                "'<40 hex digit secret hash> <path> <reason>'"
            )
        entries.add((match["hash"], match["path"]))
    return frozenset(entries)


def is_allowlisted(finding: Finding, allowlist: frozenset[tuple[str, str]]) -> bool:
    return (finding.secret_hash, finding.path) in allowlist
