"""Invariants of the Dockerfile, .dockerignore and compose.yaml, read as text.

These tests never build the image, because a test machine may have no
container engine. They check the files the build and the stack would use.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.__main__ import health_check_host, main
from app.settings import Settings
from tests.helpers import PRODUCTION_ENV, free_port
from tests.test_server import running_server

REPOSITORY = Path(__file__).resolve().parent.parent

# Files that must never enter the build context.
SECRET_PATHS = [
    ".env",
    ".env.production",
    "app/.env",
    "deploy/server.key",
    "certs/tls.pem",
    ".git/config",
    ".venv/bin/python",
    "data/app.db",
    "tests/test_gate.py",
    "app/__pycache__/main.cpython-311.pyc",
]
# Files the Dockerfile copies, which the context must hold.
NEEDED_PATHS = ["app/main.py", "app/security/api_key.py", "requirements/app.txt"]


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]


def parse_dockerfile(text: str) -> list[Stage]:
    """Split a Dockerfile into stages of (INSTRUCTION, arguments), continuations joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[Stage] = []
    for raw_line in joined.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        arguments = " ".join(arguments.split())
        if instruction == "FROM":
            stages.append(Stage(base=arguments.split()[0]))
        else:
            stages[-1].instructions.append((instruction, arguments))
    return stages


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Return whether Docker would leave `path` out of the context (last match wins)."""
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.removeprefix("!").strip("/")
        # `**/` matches zero or more folders, as in Docker's own matcher.
        regex = re.escape(body).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]").replace(r"\[", "[").replace(r"\]", "]")
        parts = path.split("/")
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile((REPOSITORY / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = (REPOSITORY / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPOSITORY / "compose.yaml").read_text())
    return loaded


# --- Dockerfile ----------------------------------------------------------------


def test_dockerfile_is_multi_stage(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    assert any(args.startswith("--from=") for args in stages[-1].arguments("COPY"))


def test_dockerfile_base_is_pinned_slim(stages: list[Stage]) -> None:
    for stage in stages:
        assert re.fullmatch(r"python:3\.\d+(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", stage.base)


def test_dockerfile_installs_with_hashes(stages: list[Stage]) -> None:
    installs = [args for args in stages[0].arguments("RUN") if "pip install" in args]
    assert installs
    for args in installs:
        assert "--require-hashes" in args
        assert "-r requirements/app.txt" in args


# The faulty pattern: a single stage that never leaves root.
ROOT_DOCKERFILE = """
FROM python:3.11-slim
COPY app/ app/
CMD ["python", "-m", "app", "serve"]
"""


@pytest.mark.parametrize(
    "dockerfile",
    [
        REPOSITORY / "Dockerfile",
        pytest.param(None, marks=pytest.mark.xfail(strict=True, reason="runs as root")),
    ],
    ids=["Dockerfile", "root-image"],
)
def test_dockerfile_final_user_is_numeric_non_root(dockerfile: Path | None) -> None:
    text = dockerfile.read_text() if dockerfile else ROOT_DOCKERFILE
    final = parse_dockerfile(text)[-1]
    users = final.arguments("USER")
    assert users
    user, _, group = users[-1].partition(":")
    assert user.isdigit()
    assert int(user) != 0
    assert group == "" or (group.isdigit() and int(group) != 0)
    # Nothing after USER may switch back to root.
    names = [name for name, _ in final.instructions]
    assert "RUN" not in names[names.index("USER") :]


def test_dockerfile_final_has_no_compilers(final: Stage) -> None:
    for args in final.arguments("RUN"):
        for tool in ("apt-get", "apk", "gcc", "build-essential", "pip install", "make"):
            assert tool not in args


def test_dockerfile_copies_no_secrets(stages: list[Stage]) -> None:
    for stage in stages:
        for args in stage.arguments("COPY") + stage.arguments("ADD"):
            sources = [word for word in args.split()[:-1] if not word.startswith("--")]
            for source in sources:
                assert source not in {".", "./", "*"}, "copy named paths, not the context"
                assert ".env" not in source
                assert not source.endswith((".key", ".pem"))


def test_dockerfile_sets_python_environment(final: Stage) -> None:
    environment = " ".join(final.arguments("ENV")).split()
    assert "PYTHONDONTWRITEBYTECODE=1" in environment
    assert "PYTHONUNBUFFERED=1" in environment
    assert "APP_ENV=production" in environment


def test_dockerfile_healthcheck_needs_no_tools(final: Stage) -> None:
    checks = final.arguments("HEALTHCHECK")
    assert len(checks) == 1
    assert checks[0].endswith('CMD ["python", "-m", "app", "healthcheck"]')


def test_dockerfile_starts_gated_server(final: Stage) -> None:
    # `serve` runs the start-up gate, then uvicorn with WEB_CONCURRENCY
    # workers and FORWARDED_ALLOW_IPS (tests/test_gate.py, tests/test_cli.py).
    assert final.arguments("CMD") == ['["python", "-m", "app", "serve"]']


# --- .dockerignore -------------------------------------------------------------


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_dockerignore_excludes_secret(ignore_patterns: list[str], path: str) -> None:
    assert dockerignore_excludes(ignore_patterns, path)


@pytest.mark.parametrize("path", NEEDED_PATHS)
def test_dockerignore_keeps_needed_file(ignore_patterns: list[str], path: str) -> None:
    assert not dockerignore_excludes(ignore_patterns, path)


# --- compose.yaml --------------------------------------------------------------


def test_compose_passes_only_settings(compose: dict[str, Any]) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    passed = set(compose["services"]["app"]["environment"])
    assert passed - fields == set()


def test_compose_holds_no_secret_values(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for name, value in service.get("environment", {}).items():
            if any(word in name for word in ("KEY", "PASSWORD", "SECRET", "TOKEN")):
                assert re.fullmatch(r"\$\{[A-Z_]+(:[?-][^}]*)?\}", str(value)), name
            # A URL's password is interpolated, never written.
            userinfo = re.match(r"\w[\w+.-]*://([^@/]*)@", str(value))
            if userinfo and ":" in userinfo.group(1):
                assert "${" in userinfo.group(1).split(":", 1)[1], name


def test_compose_app_runs_two_workers(compose: dict[str, Any]) -> None:
    environment = compose["services"]["app"]["environment"]
    assert environment["WEB_CONCURRENCY"] == "2"
    assert environment["RATE_LIMIT_STORAGE_URI"].startswith("redis://")
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_compose_services_have_health_and_restart(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name


# --- the health check command --------------------------------------------------


@pytest.mark.parametrize(
    ("allowed_hosts", "expected"),
    [
        ([], "localhost"),
        (["api.example.com", "b"], "api.example.com"),
        (["*.example.com"], "healthcheck.example.com"),
    ],
)
def test_health_check_host_is_allowed(allowed_hosts: list[str], expected: str) -> None:
    assert health_check_host(allowed_hosts) == expected


def test_healthcheck_fails_without_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", str(free_port()))
    assert main(["healthcheck"]) == 1
    assert capsys.readouterr().err == "health check failed: ConnectionRefusedError\n"


@pytest.mark.slow
def test_healthcheck_passes_against_server(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "DATA_DIR": str(tmp_path / "data")}
    with running_server(env, tmp_path) as (url, _lines):
        port = url.rsplit(":", 1)[1]
        result = subprocess.run(
            [sys.executable, "-m", "app", "healthcheck"],
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPOSITORY), **env, "PORT": port},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, shlex.join(result.args) + result.stderr
