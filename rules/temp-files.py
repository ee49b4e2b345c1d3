# Semgrep rule tests for temp-files.
import os
import shutil
import tempfile
from pathlib import Path
from tempfile import NamedTemporaryFile, mkstemp


def process(path: str) -> None:
    raise ValueError(path)


def upload_left_behind(data: bytes) -> None:
    # ruleid: temp-files
    with tempfile.NamedTemporaryFile(delete=False) as tmp:
        tmp.write(data)
    process(tmp.name)
    os.unlink(tmp.name)  # skipped when process() raises


def upload_assigned(data: bytes) -> None:
    # ruleid: temp-files
    tmp = NamedTemporaryFile(delete=False, suffix=".xlsx")
    tmp.write(data)
    tmp.close()
    process(tmp.name)


def mkstemp_left_behind(data: bytes) -> None:
    # ruleid: temp-files
    fd, path = mkstemp()
    os.write(fd, data)
    os.close(fd)
    process(path)
    os.remove(path)


def mkstemp_module(data: bytes) -> str:
    # ruleid: temp-files
    fd, path = tempfile.mkstemp(dir="/tmp/uploads")
    os.close(fd)
    return path


# The fix: the code that creates the file deletes it, in `finally`.
def upload_finally(data: bytes) -> None:
    # ok: temp-files
    with tempfile.NamedTemporaryFile(delete=False) as tmp:
        tmp.write(data)
    try:
        process(tmp.name)
    finally:
        os.unlink(tmp.name)


def upload_assigned_finally(data: bytes) -> None:
    # ok: temp-files
    tmp = NamedTemporaryFile(delete=False)
    try:
        tmp.write(data)
        tmp.close()
        process(tmp.name)
    finally:
        Path(tmp.name).unlink(missing_ok=True)


def mkstemp_finally(data: bytes) -> None:
    # ok: temp-files
    fd, path = tempfile.mkstemp()
    try:
        os.write(fd, data)
        process(path)
    finally:
        os.close(fd)
        os.remove(path)


def created_inside_try(data: bytes) -> None:
    path = None
    try:
        # ok: temp-files
        fd, path = mkstemp()
        os.close(fd)
        process(path)
    finally:
        if path is not None:
            os.unlink(path)


def folder_removed(data: bytes) -> None:
    folder = tempfile.mkdtemp()
    try:
        # ok: temp-files
        fd, path = mkstemp(dir=folder)
        os.close(fd)
        process(path)
    finally:
        shutil.rmtree(folder)


def deleted_by_context_manager(data: bytes) -> None:
    # ok: temp-files
    with NamedTemporaryFile() as tmp:
        tmp.write(data)
        tmp.flush()
        process(tmp.name)


def temporary_directory(data: bytes) -> None:
    # ok: temp-files
    with tempfile.TemporaryDirectory() as folder:
        process(os.path.join(folder, "upload"))
