"""Temporary files for uploads: made in a private folder, deleted on every path.

Defends against: user data left on disk for ever when processing an upload
raises (the `NamedTemporaryFile(delete=False)` pattern without `finally`).
Also against other local users reading uploads in a shared temp folder, a
file name chosen by the client (path traversal, overwriting), and files left
behind by a process that was killed mid-upload.

Needs: only the standard library. Imports nothing else from this project.

Wiring into an existing app::

    from temp_files import private_folder, remove_leftover_files, temporary_file

    folder = private_folder(Path("data/uploads"))   # at start
    remove_leftover_files(folder)                   # at start; returns the count
    with temporary_file(folder) as (path, file):    # in the route
        file.write(chunk)                           # stream the upload in
        ...                                         # process `path`
    # the file is gone here, whether the block returned or raised

A file's name contains the id of the process that made it, so that with several
worker processes sharing the folder, one that starts (or restarts) removes
only files of processes that are no longer running.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["FILE_PREFIX", "private_folder", "remove_leftover_files", "temporary_file"]

FILE_PREFIX = "upload-"

logger = logging.getLogger(__name__)


def private_folder(path: Path) -> Path:
    """Create `path` with mode 0700 if missing, and return it.

    Raises `PermissionError` when the folder is a symbolic link, belongs to
    another user, or is open to group or others: any of these could hand the
    uploads to someone else. An existing folder is refused rather than
    tightened, so a shared folder such as /tmp is never changed by mistake.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise PermissionError(f"upload folder {path} is not a plain directory")
    if info.st_uid != os.getuid():
        raise PermissionError(f"upload folder {path} belongs to another user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise PermissionError(
            f"upload folder {path} is open to other users; give the service a folder "
            "of its own, or run `chmod 700` on it"
        )
    return path


@contextmanager
def temporary_file(folder: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """Yield a new empty file (mode 0600, random name) and delete it when the block ends.

    The name never comes from the client. The file is deleted on every way
    out of the block: return, exception, cancellation (a client that
    disconnected) or `GeneratorExit`.
    """
    descriptor, name = tempfile.mkstemp(prefix=f"{FILE_PREFIX}{os.getpid()}-", dir=folder)
    path = Path(name)
    try:
        with os.fdopen(descriptor, "w+b") as file:
            yield path, file
    finally:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            # Raising here would hide the exception that ended the block.
            logger.error("could not delete upload file %s: %s", path.name, type(exc).__name__)


def remove_leftover_files(folder: Path) -> int:
    """Delete upload files that ended processes left in `folder`; return the count.

    Call it at start, before serving: it removes what a killed process could
    not clean up. Files of running processes (other workers) are kept.
    """
    removed = 0
    for path in folder.iterdir():
        # Only names this module makes are touched, so a folder set by
        # mistake to one shared with other programs loses nothing of theirs.
        if not path.name.startswith(FILE_PREFIX) or _owner_is_running(path.name):
            continue
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _owner_is_running(name: str) -> bool:
    pid_text = name[len(FILE_PREFIX) :].split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # This process is starting, so none of its uploads can be in flight.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The process exists but belongs to another user.
        return True
    # NOTE: a process id reused by an unrelated process keeps a leftover file
    # until the next start after that process ends.
    return True
