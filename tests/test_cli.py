"""The command line: new-key, init-env, check, and refused starts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.__main__ import main
from tests.helpers import ALICE_KEY, PRODUCTION_ENV

REPOSITORY = Path(__file__).resolve().parent.parent


def run_app(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m app ARGS` in a clean environment, from `cwd`."""
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPOSITORY)}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_new_key_prints_long_random_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-key"]) == 0
    first = capsys.readouterr().out.strip()
    main(["new-key"])
    second = capsys.readouterr().out.strip()
    assert len(first) >= 43
    assert first != second


def test_init_env_writes_private_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / ".env"
    assert main(["init-env", "--path", str(path)]) == 0

    content = path.read_text()
    assert "APP_ENV=development\n" in content
    key = content.split("API_KEYS=dev:", 1)[1].strip()
    assert len(key) >= 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"X-API-Key: {key}" in capsys.readouterr().out


def test_init_env_keeps_existing_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("APP_ENV=production\n")
    assert main(["init-env", "--path", str(path)]) == 0
    assert path.read_text() == "APP_ENV=production\n"


def test_check_fails_without_keys(tmp_path: Path) -> None:
    result = run_app("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "API_KEYS" in result.stdout
    assert "python -m app new-key" in result.stdout


def test_check_passes_with_safe_settings(tmp_path: Path) -> None:
    result = run_app("check", env=PRODUCTION_ENV, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ALICE_KEY not in result.stdout + result.stderr


def test_serve_refuses_production_without_keys(tmp_path: Path) -> None:
    for env in ({}, {"API_KEYS": ""}, {"API_KEYS": "  "}, {"APP_ENV": "production"}):
        result = run_app("serve", env={**env, "PORT": "1"}, cwd=tmp_path)
        assert result.returncode == 1
        assert "API_KEYS" in result.stderr
        assert "Traceback" not in result.stderr


def test_serve_reports_invalid_setting_without_value(tmp_path: Path) -> None:
    bad = f"alice {ALICE_KEY}"
    result = run_app("serve", env={"API_KEYS": bad}, cwd=tmp_path)
    assert result.returncode == 1
    assert "API_KEYS: entry 1 must be client_id:key" in result.stderr
    assert ALICE_KEY not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_uvicorn_import_refuses_production_without_keys(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import app.main; app.main.app"],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPOSITORY)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "API_KEYS" in result.stderr
