"""The three scans: working tree, staged changes, and every commit in history."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from .allowlist import is_allowlisted, load_allowlist
from .engine import LineCache, detect_secrets_configured, scan_text
from .findings import Finding, mask
from .git import Blob, blob_reader, history_blobs, repository_root, staged_blobs
from .git import working_tree_paths as list_working_tree_paths

logger = logging.getLogger(__name__)

# Larger files are lock files, data dumps or binaries; detect-secrets reads
# line by line, so scanning them would take minutes for little gain.
MAX_FILE_BYTES = 5 * 1024 * 1024
# git's own test for binary content: a NUL byte near the start.
BINARY_SNIFF_BYTES = 8000


def _decode_text(content: bytes) -> str | None:
    if b"\0" in content[:BINARY_SNIFF_BYTES]:
        return None
    return content.decode("utf-8", errors="replace")


def _log_too_large(path: str, size: int, commit: str | None = None) -> None:
    logger.warning(
        "skipped %s (%d bytes, over %d)%s",
        path,
        size,
        MAX_FILE_BYTES,
        f" in commit {commit}" if commit else "",
    )


def _findings_in(
    path: str, content: bytes, commit: str | None = None, cache: LineCache | None = None
) -> list[Finding]:
    text = _decode_text(content)
    if text is None:
        return []
    return [
        Finding(
            path=path,
            line=raw.line,
            detector=raw.detector,
            masked_value=mask(raw.value),
            secret_hash=raw.secret_hash,
            commit=commit,
        )
        for raw in scan_text(path, text, cache)
    ]


def _without_allowlisted(root: Path, findings: Iterable[Finding]) -> list[Finding]:
    allowlist = load_allowlist(root)
    return [finding for finding in findings if not is_allowlisted(finding, allowlist)]


def scan_working_tree(path: Path | str = ".") -> list[Finding]:
    """Return the secrets in the files of the work tree that git tracks or would track.

    Ignored files (`.env`, say) are left out: they never reach a commit.
    Raises GitError when `path` is not in a git work tree.
    """
    root = repository_root(Path(path))
    findings: list[Finding] = []
    with detect_secrets_configured():
        for name in list_working_tree_paths(root):
            file = root / name
            # A deleted-but-tracked file has no content; a symlink's target
            # may sit outside the repository.
            if file.is_symlink() or not file.is_file():
                continue
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                _log_too_large(name, size)
                continue
            findings.extend(_findings_in(name, file.read_bytes()))
    return _without_allowlisted(root, findings)


def scan_staged(path: Path | str = ".") -> list[Finding]:
    """Return the secrets in the files the next commit would add or change, as staged."""
    root = repository_root(Path(path))
    return _without_allowlisted(root, _scan_blobs(root, staged_blobs(root)))


def scan_history(path: Path | str = ".", revisions: Sequence[str] = ("--all",)) -> list[Finding]:
    """Return the secrets in every blob of every commit reachable from any ref.

    `revisions` narrows the scan with `git rev-list` arguments, `("HEAD",)`
    for one branch, for example. A secret is reported once per file, with the first commit that contains
    it, even when later commits delete it: a deleted key can still be read
    from history. This is the function `python -m app scan-secrets
    --history` prints. Raises GitError when `path` is not in a git work tree
    or git fails, and AllowlistError on an invalid allowlist line.
    """
    root = repository_root(Path(path))
    findings = _scan_blobs(root, history_blobs(root, revisions))

    # Blobs come parents first, so the first finding of a secret in a file
    # names the commit that introduced it. Later versions repeat it.
    unique: list[Finding] = []
    reported: set[tuple[str, str]] = set()
    for finding in findings:
        key = (finding.path, finding.secret_hash)
        if key in reported:
            continue
        reported.add(key)
        unique.append(finding)
    return _without_allowlisted(root, unique)


def _scan_blobs(root: Path, blobs: list[Blob]) -> list[Finding]:
    findings: list[Finding] = []
    cache: LineCache = {}
    with detect_secrets_configured(), blob_reader(root) as reader:
        for blob in blobs:
            size, content = reader.read(blob.object_id, MAX_FILE_BYTES)
            if content is None:
                _log_too_large(blob.path, size, blob.commit)
                continue
            findings.extend(_findings_in(blob.path, content, blob.commit, cache))
    return findings
