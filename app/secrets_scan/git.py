"""Read a git repository's files: the working tree, the index and every commit's blobs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GIT_TIMEOUT_SECONDS = 300
READ_CHUNK_BYTES = 1024 * 1024


class GitError(RuntimeError):
    """A git command failed; the message names the command and git's own error."""


@dataclass(frozen=True)
class Blob:
    """A file's content as git stores it, and where it was first seen."""

    path: str
    object_id: str
    commit: str | None = None


def _git(root: Path, *args: str) -> bytes:
    command = ["git", "-C", str(root), *args]
    try:
        result = subprocess.run(  # noqa: S603  # fixed git arguments, no shell
            command, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"'git {args[0]}' timed out after {GIT_TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"'git {' '.join(args)}' failed in {root}: {detail}")
    return result.stdout


def repository_root(path: Path) -> Path:
    """Return the top folder of the work tree that contains `path`."""
    if not path.is_dir():
        raise GitError(f"{path} is not a folder")
    output = _git(path, "rev-parse", "--show-toplevel")
    return Path(output.decode("utf-8").strip())


def working_tree_paths(root: Path) -> list[str]:
    """Return the tracked files and the untracked files that no ignore rule covers."""
    output = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted({name.decode("utf-8", "replace") for name in output.split(b"\0") if name})


def staged_blobs(root: Path) -> list[Blob]:
    """Return the files the next commit would add or change, as stored in the index."""
    # Against the empty tree when there is no commit yet, so a first commit
    # is checked too. `git hash-object -t tree /dev/null` names it.
    has_head = subprocess.run(  # noqa: S603
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD"],  # noqa: S607
        capture_output=True,
        timeout=GIT_TIMEOUT_SECONDS,
        check=False,
    )
    base = "HEAD" if has_head.returncode == 0 else _empty_tree(root)
    output = _git(
        root, "diff-index", "--cached", "-z", "--no-renames", "--diff-filter=d", "--no-abbrev", base
    )
    return [Blob(path, object_id) for _commit, path, object_id in _parse_raw_diff(output)]


def _empty_tree(root: Path) -> str:
    return _git(root, "hash-object", "-t", "tree", "/dev/null").decode().strip()


def history_blobs(root: Path, revisions: Sequence[str] = ("--all",)) -> list[Blob]:
    """Return every blob that a commit reachable from `revisions` adds or changes.

    `revisions` are `git rev-list` arguments; the default is every ref:
    branches, tags, remote-tracking branches and the stash.

    Each blob comes once, with the first commit (parents before children)
    and path that brought it in. Merge commits are compared with each parent,
    so content that only a merge introduced is included.
    """
    # NOTE: objects reachable only through a tag that points at a tree or a
    # blob are not scanned. Unreachable objects (reflog, dangling) are not
    # scanned either, and a clone does not receive them.
    commits = _git(root, "rev-list", "--topo-order", "--reverse", *revisions, "--")
    if not commits.strip():
        return []
    output = _run_with_input(
        root,
        ["diff-tree", "--stdin", "-r", "-m", "--root", "-z", "--no-renames", "--diff-filter=d"],
        commits,
    )

    blobs: dict[str, Blob] = {}
    for commit, path, object_id in _parse_raw_diff(output):
        if object_id not in blobs:
            blobs[object_id] = Blob(path, object_id, commit)
    return list(blobs.values())


def _run_with_input(root: Path, args: list[str], data: bytes) -> bytes:
    command = ["git", "-C", str(root), *args]
    result = subprocess.run(  # noqa: S603  # fixed git arguments, no shell
        command, input=data, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"'git {args[0]}' failed in {root}: {detail}")
    return result.stdout


def _parse_raw_diff(output: bytes) -> Iterator[tuple[str | None, str, str]]:
    """Yield (commit, path, new blob id) from `git diff-tree -z` or `diff-index -z` output.

    Entries are `:<modes> <old id> <new id> <status>` then the path; in
    diff-tree's `--stdin` output, a commit id comes before its entries.
    """
    fields = output.split(b"\0")
    commit: str | None = None
    index = 0
    while index < len(fields):
        field = fields[index].decode("utf-8", "replace")
        index += 1
        if not field:
            continue
        if not field.startswith(":"):
            commit = field.split()[0]
            continue
        path = fields[index].decode("utf-8", "replace")
        index += 1
        _old_mode, new_mode, _old_id, new_id, _status = field[1:].split(" ")
        # Submodules (160000) are commits of another repository, not blobs here.
        if new_mode.startswith("16"):
            continue
        yield commit, path, new_id


class BlobReader:
    """Read blobs through one long-running `git cat-file --batch` process."""

    def __init__(self, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self._stdin = stdin
        self._stdout = stdout

    def read(self, object_id: str, max_bytes: int) -> tuple[int, bytes | None]:
        """Return a blob's size, and its content unless it is larger than `max_bytes`."""
        self._stdin.write(object_id.encode() + b"\n")
        self._stdin.flush()
        header = self._stdout.readline().decode().split()
        if len(header) != 3:
            raise GitError(f"git cat-file could not read object {object_id}")
        size = int(header[2])

        # Each object is followed by a newline. An oversized one is read in
        # chunks and dropped, so it never sits in memory whole.
        if size > max_bytes:
            remaining = size + 1
            while remaining:
                chunk = self._stdout.read(min(remaining, READ_CHUNK_BYTES))
                if not chunk:
                    raise GitError(f"git cat-file stopped while reading object {object_id}")
                remaining -= len(chunk)
            return size, None

        content = self._stdout.read(size)
        self._stdout.read(1)
        return size, content


@contextmanager
def blob_reader(root: Path) -> Iterator[BlobReader]:
    """Start `git cat-file --batch` in `root`, and stop it when the block ends."""
    process = subprocess.Popen(  # noqa: S603
        ["git", "-C", str(root), "cat-file", "--batch"],  # noqa: S607
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None  # noqa: S101  # PIPE was requested
    assert process.stdout is not None  # noqa: S101
    try:
        yield BlobReader(process.stdin, process.stdout)
    finally:
        process.stdin.close()
        process.wait(timeout=GIT_TIMEOUT_SECONDS)
        process.stdout.close()
