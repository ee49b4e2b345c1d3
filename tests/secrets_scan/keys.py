"""Key-shaped strings built at run time, and a throwaway git repository to commit them to.

Every prefix is split so that no line of this file matches a detector: the
project's own history scan reads it too.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
from pathlib import Path

ALPHANUMERIC = string.ascii_letters + string.digits
URL_SAFE = ALPHANUMERIC + "-_"


def random_text(length: int, alphabet: str = URL_SAFE) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def anthropic_key(body_length: int = 95) -> str:
    return "sk-" + "ant-" + "api03-" + random_text(body_length, ALPHANUMERIC)


def google_key(body_length: int = 35) -> str:
    return "AI" + "za" + random_text(body_length, ALPHANUMERIC)


def openai_project_key(body_length: int = 156) -> str:
    return "sk-" + "proj-" + random_text(body_length)


def github_fine_grained_token(first: int = 22, second: int = 59) -> str:
    return (
        "github"
        + "_pat_"
        + random_text(first, ALPHANUMERIC)
        + "_"
        + random_text(second, ALPHANUMERIC)
    )


def client_api_key(length: int = 43) -> str:
    """A client key of this service, shaped as `python -m app new-key` makes it."""
    return random_text(length)


def aws_access_key_id() -> str:
    return "AK" + "IA" + random_text(16, string.ascii_uppercase + string.digits)


class Repository:
    """A git repository in a temporary folder, with commits by a fixed test author."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        # A clean environment keeps the developer's hooks, signing and
        # templates out of the test repository.
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
        }
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    def write(self, name: str, content: str) -> None:
        file = self.path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content, encoding="utf-8")

    def commit(self, message: str) -> str:
        """Stage every change, commit it and return the commit id."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "--message", message)
        return self.git("rev-parse", "HEAD")
