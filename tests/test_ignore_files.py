"""The ignore files keep secrets and user data out of git and out of the Docker build context."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.secrets_scan.keys import Repository

PROJECT = Path(__file__).resolve().parent.parent

# Sample paths, at the top and deeper down, for every kind of file that holds
# a secret or user data.
MUST_IGNORE = [
    ".env",
    ".env.local",
    ".env.production",
    "deploy/.env",
    "server.key",
    "certs/tls.pem",
    "certs/client.p12",
    "certs/client.pfx",
    "credentials.json",
    "service-account-prod.json",
    "gcp-credentials.json",
    "client_secret_1234.json",
    ".secrets/token",
    "sessions/telegram.session",
    ".sessions/state",
    "data/app.db",
    "uploads/report.xlsx",
]
MUST_KEEP = [".env.example", "app/main.py", "requirements/app.txt", "README.md"]


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    return Repository(tmp_path / "repository")


def is_ignored(repository: Repository, ignore_file: str, path: str) -> bool:
    """Ask `git check-ignore` whether `path` matches the project's `ignore_file`."""
    if ignore_file == ".gitignore":
        shutil.copy(PROJECT / ".gitignore", repository.path / ".gitignore")
        args = ["check-ignore", "--no-index", "--quiet", path]
    else:
        # NOTE: git's matcher is used in place of Docker's here. The two read the
        # `**/`-prefixed patterns of .dockerignore alike; Docker differs for a
        # bare `*.key`, which it matches only at the top of the context.
        args = ["-c", f"core.excludesFile={PROJECT / ignore_file}"]
        args += ["check-ignore", "--no-index", "--quiet", path]
    try:
        repository.git(*args)
    except subprocess.CalledProcessError as exc:
        # Exit status 1 means "not ignored"; anything else is a failed check.
        if exc.returncode == 1:
            return False
        raise
    return True


@pytest.mark.parametrize("ignore_file", [".gitignore", ".dockerignore"])
@pytest.mark.parametrize("path", MUST_IGNORE)
def test_secret_path_is_ignored(repository: Repository, ignore_file: str, path: str) -> None:
    assert is_ignored(repository, ignore_file, path)


@pytest.mark.parametrize("ignore_file", [".gitignore", ".dockerignore"])
@pytest.mark.parametrize("path", MUST_KEEP)
def test_example_and_code_are_kept(repository: Repository, ignore_file: str, path: str) -> None:
    assert not is_ignored(repository, ignore_file, path)


def test_dockerignore_leaves_out_git_folder() -> None:
    patterns = (PROJECT / ".dockerignore").read_text().splitlines()
    assert ".git" in patterns
