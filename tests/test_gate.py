"""The production gate: `python -m app check` and the server start share every rule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

import app.checks
import app.main
from app.__main__ import main
from app.checks import Problem, UnsafeConfigurationError, find_settings_problems
from app.entrypoint import build_app_from_environment, find_problems_from_environment
from app.main import create_app
from app.security.api_key import APIKeyAuth
from app.settings import Settings
from tests.conftest import SettingsFactory
from tests.helpers import ALICE_KEY, PRODUCTION_ENV, PRODUCTION_SETTINGS, free_port
from tests.test_cli import run_app

UNSAFE_ENV = {
    **PRODUCTION_ENV,
    "API_KEYS": "svc:changeme-changeme-changeme-changeme",
    "DOCS_ENABLED": "true",
}


def use_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def add_routes_to_every_app(monkeypatch: pytest.MonkeyPatch, router: APIRouter) -> None:
    """Make create_app include `router` as well, as a forgotten router would be."""
    include_service_routers = app.main._include_routers

    def include_with_extra(application: FastAPI, auth: APIKeyAuth) -> None:
        include_service_routers(application, auth)
        application.include_router(router)

    monkeypatch.setattr(app.main, "_include_routers", include_with_extra)


def unprotected_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/forgotten")
    def forgotten() -> None: ...

    return router


def debug_router() -> APIRouter:
    router = APIRouter()

    @router.get("/debug/settings")
    def dump_settings() -> None: ...

    return router


def run_check(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = main(["check"])
    return status, capsys.readouterr().out.splitlines()


# --- the command ---------------------------------------------------------------


def test_check_passes_clean_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, PRODUCTION_ENV)
    status, lines = run_check(capsys)
    assert status == 0
    assert lines == ["No errors found (0 warning(s))."]


def test_check_reports_every_problem_at_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, UNSAFE_ENV)
    add_routes_to_every_app(monkeypatch, unprotected_router())

    status, lines = run_check(capsys)

    assert status == 1
    subjects = [line.split(": ")[1] for line in lines]
    assert subjects == ["API_KEYS", "DOCS_ENABLED", "route POST /api/forgotten"]
    assert all(line.startswith("error: ") for line in lines)


def test_check_reports_unprotected_route(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, PRODUCTION_ENV)
    add_routes_to_every_app(monkeypatch, unprotected_router())

    status, lines = run_check(capsys)

    assert status == 1
    assert lines == [
        "error: route POST /api/forgotten: neither protected by the API key nor on the "
        "public list; protect it with the API key or add it to PUBLIC_ROUTES in app/main.py"
    ]


def test_check_reports_debug_route(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, PRODUCTION_ENV)
    add_routes_to_every_app(monkeypatch, debug_router())

    status, lines = run_check(capsys)

    assert status == 1
    assert (
        "error: route GET /debug/settings: path looks like a debug route; remove the route "
        "from the app, or rename it if it is not a diagnostic route"
    ) in lines


def test_check_warns_about_env_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, PRODUCTION_ENV)
    Path(".env").write_text("LOG_LEVEL=INFO\n")

    status, lines = run_check(capsys)

    assert status == 0
    assert lines[0].startswith("warning: .env: a .env file is read in production")
    assert lines[1] == "No errors found (1 warning(s))."


def test_check_warns_about_development_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, {**PRODUCTION_ENV, "APP_ENV": "development"})
    status, lines = run_check(capsys)
    assert status == 0
    assert lines[0].startswith("warning: APP_ENV: is development, so the server skips")


def test_check_applies_rules_outside_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, {**UNSAFE_ENV, "APP_ENV": "development"})
    status, lines = run_check(capsys)
    assert status == 1
    assert any(line.startswith("error: API_KEYS: ") for line in lines)


def test_check_never_connects_to_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on this port: a connection attempt would fail the build.
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    use_environment(monkeypatch, {**PRODUCTION_ENV, "DATABASE_URL": url})
    status, _ = run_check(capsys)
    assert status == 0


def test_check_output_never_shows_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, {**PRODUCTION_ENV, "API_KEYS": f"alice:{ALICE_KEY[:20]}"})
    status = main(["check"])
    output = capsys.readouterr()
    assert status == 1
    assert ALICE_KEY[:20] not in output.out + output.err


# --- the server start runs the same rules --------------------------------------


def test_start_refused_for_unprotected_route(
    monkeypatch: pytest.MonkeyPatch, make_settings: SettingsFactory
) -> None:
    add_routes_to_every_app(monkeypatch, unprotected_router())
    with pytest.raises(UnsafeConfigurationError) as caught:
        create_app(make_settings(**PRODUCTION_SETTINGS))
    assert [problem.subject for problem in caught.value.problems] == ["route POST /api/forgotten"]


def test_start_refused_for_debug_route(
    monkeypatch: pytest.MonkeyPatch, make_settings: SettingsFactory
) -> None:
    add_routes_to_every_app(monkeypatch, debug_router())
    for environment in ("production", "development", "test"):
        with pytest.raises(UnsafeConfigurationError) as caught:
            create_app(make_settings(**{**PRODUCTION_SETTINGS, "app_env": environment}))
        assert "route GET /debug/settings" in [p.subject for p in caught.value.problems]


def test_start_and_check_give_same_messages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_environment(monkeypatch, UNSAFE_ENV)
    add_routes_to_every_app(monkeypatch, unprotected_router())
    _, check_lines = run_check(capsys)

    with pytest.raises(SystemExit) as exited:
        build_app_from_environment()

    assert exited.value.code == 1
    start_lines = capsys.readouterr().err.splitlines()
    assert start_lines == [
        "refusing to start in production:",
        *(f"  - {line}" for line in check_lines),
    ]


def test_start_logs_env_file_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    use_environment(monkeypatch, PRODUCTION_ENV)
    Path(".env").write_text("LOG_LEVEL=INFO\n")
    # setup_logging replaces the root handlers; caplog's handler is re-added.
    monkeypatch.setattr("app.entrypoint.setup_logging", lambda _settings: None)
    caplog.set_level(logging.WARNING)

    build_app_from_environment()

    warnings = [str(problem) for problem in find_problems_from_environment()]
    assert warnings[0].startswith("warning: .env: ")
    assert warnings[0] in [record.getMessage() for record in caplog.records]


@pytest.mark.slow
def test_serve_refuses_with_check_messages(tmp_path: Path) -> None:
    check = run_app("check", env=UNSAFE_ENV, cwd=tmp_path)
    serve = run_app("serve", env={**UNSAFE_ENV, "PORT": str(free_port())}, cwd=tmp_path)
    assert check.returncode == 1
    assert serve.returncode == 1
    for line in check.stdout.splitlines():
        assert f"  - {line}" in serve.stderr
    assert "Traceback" not in serve.stderr


# --- every settings rule reaches the gate --------------------------------------


def test_every_check_function_is_gated(
    monkeypatch: pytest.MonkeyPatch, make_settings: SettingsFactory
) -> None:
    """A `check_<area>` function that find_settings_problems never calls fails here."""
    names = [name for name in vars(app.checks) if name.startswith("check_")]
    assert names, "no check_ functions found in app.checks"
    for name in names:
        marker = Problem(name, "marker")
        monkeypatch.setattr(app.checks, name, lambda _settings, marker=marker: [marker])

    reported = find_settings_problems(make_settings(**PRODUCTION_SETTINGS))

    assert sorted(problem.subject for problem in reported) == sorted(names)


# --- the faulty pattern: a gate that stops at the first problem ----------------


def first_problem_only(settings: Settings) -> list[Problem]:
    for check in (app.checks.check_api_keys, app.checks.check_docs):
        problems = check(settings)
        if problems:
            return problems[:1]
    return []


@pytest.mark.parametrize(
    "find_problems",
    [
        find_settings_problems,
        pytest.param(first_problem_only, marks=pytest.mark.xfail(strict=True)),
    ],
    ids=["gate", "first-problem-only"],
)
def test_gate_lists_all_settings_problems(
    make_settings: SettingsFactory, find_problems: Callable[[Settings], list[Problem]]
) -> None:
    settings = make_settings(**{**PRODUCTION_SETTINGS, "api_keys": None, "docs_enabled": True})
    subjects = [problem.subject for problem in find_problems(settings)]
    assert subjects == ["API_KEYS", "DOCS_ENABLED"]


def test_subprocess_check_exit_status(tmp_path: Path) -> None:
    result = run_app("check", env=UNSAFE_ENV, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "2 error(s) would stop a production start.\n"
