""".gitignore keeps secrets and user data out of git.

Git's matcher reads .dockerignore differently from Docker's (`*` matches at
every depth in git, only at the top in Docker), so .dockerignore is checked
with Docker's rules by the container tests instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.secrets_scan.keys import Repository

PROJECT = Path(__file__).resolve().parent.parent

# Sample paths, at the top and deeper down, for every kind of file that contains
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


def is_ignored(repository: Repository, path: str) -> bool:
    """Ask `git check-ignore` whether the project's .gitignore ignores `path`."""
    shutil.copy(PROJECT / ".gitignore", repository.path / ".gitignore")
    try:
        repository.git("check-ignore", "--no-index", "--quiet", path)
    except subprocess.CalledProcessError as exc:
        # Exit status 1 means "not ignored"; anything else is a failed check.
        if exc.returncode == 1:
            return False
        raise
    return True


@pytest.mark.parametrize("path", MUST_IGNORE)
def test_secret_path_is_ignored(repository: Repository, path: str) -> None:
    assert is_ignored(repository, path)


@pytest.mark.parametrize("path", MUST_KEEP)
def test_example_and_code_are_kept(repository: Repository, path: str) -> None:
    assert not is_ignored(repository, path)
