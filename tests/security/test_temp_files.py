"""The temporary-file helper: private folder, deletion on every path, start-up sweep."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest

from app.security.temp_files import (
    FILE_PREFIX,
    private_folder,
    remove_leftover_files,
    temporary_file,
)

TemporaryFile = Callable[[Path], AbstractContextManager[tuple[Path, BinaryIO]]]


class ProcessingError(Exception):
    pass


@contextmanager
def _faulty_temporary_file(folder: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """The audited fault: NamedTemporaryFile(delete=False), unlinked only after success."""
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as file:
        yield Path(file.name), file  # type: ignore[misc]  # a file-like wrapper, as the fault had
    os.unlink(file.name)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return private_folder(tmp_path / "uploads")


def test_private_folder_is_created_0700(tmp_path: Path) -> None:
    folder = private_folder(tmp_path / "a" / "uploads")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_private_folder_refuses_folder_open_to_others(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(PermissionError, match="open to other users"):
        private_folder(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_private_folder_refuses_symlink(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(PermissionError, match="not a plain directory"):
        private_folder(link)


def test_temporary_file_is_0600_with_generated_name(folder: Path) -> None:
    with temporary_file(folder) as (path, file):
        file.write(b"data")
        assert path.parent == folder
        assert path.name.startswith(f"{FILE_PREFIX}{os.getpid()}-")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "make_file",
    [
        temporary_file,
        pytest.param(
            _faulty_temporary_file,
            marks=pytest.mark.xfail(strict=True, reason="file kept when processing raises"),
        ),
    ],
)
def test_file_is_deleted_when_processing_raises(folder: Path, make_file: TemporaryFile) -> None:
    def process() -> None:
        with make_file(folder) as (_path, file):
            file.write(b"user data")
            raise ProcessingError

    with pytest.raises(ProcessingError):
        process()
    assert list(folder.iterdir()) == []


def test_file_deleted_inside_block(folder: Path) -> None:
    with temporary_file(folder) as (path, _file):
        path.unlink()
    assert list(folder.iterdir()) == []


def test_sweep_removes_files_of_ended_processes(folder: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    leftover = folder / f"{FILE_PREFIX}{ended.stdout.strip()}-abc123"
    leftover.write_bytes(b"user data")

    assert remove_leftover_files(folder) == 1
    assert list(folder.iterdir()) == []


def test_sweep_keeps_files_of_running_processes(folder: Path) -> None:
    # The parent of this test process is running and is not this process.
    in_flight = folder / f"{FILE_PREFIX}{os.getppid()}-abc123"
    in_flight.write_bytes(b"being uploaded")

    assert remove_leftover_files(folder) == 0
    assert list(folder.iterdir()) == [in_flight]


def test_sweep_keeps_files_it_did_not_make(folder: Path) -> None:
    other = folder / "notes.txt"
    other.write_bytes(b"not an upload")

    assert remove_leftover_files(folder) == 0
    assert list(folder.iterdir()) == [other]
