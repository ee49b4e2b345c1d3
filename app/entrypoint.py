"""Build the app from the environment, as the server's entry point does.

This is the one place that reads the environment, configures logging and
turns a refused start into a short message and exit status 1 (no traceback,
which could show a value).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from fastapi import FastAPI

from app.checks import (
    Problem,
    UnsafeConfigurationError,
    find_environment_problems,
    find_settings_problems,
)
from app.logging_config import configure_logging
from app.main import create_app, find_app_route_problems
from app.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)

# Relative to the working folder, as load_settings reads it.
ENV_FILE = Path(".env")


def load_settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None


def setup_logging(settings: Settings) -> None:
    configure_logging(
        settings.log_level,
        json_lines=settings.is_production,
        secrets=settings.secret_values(),
    )


def find_problems_from_environment() -> list[Problem]:
    """Return every problem a production start from this environment would have.

    Builds the app as the server does (so the route rules apply) without
    starting it or connecting to the database. The settings rules apply
    whatever APP_ENV is set to, because the point is to check a deployment.
    """
    settings = load_settings_or_exit()
    app = create_app(settings, gate=False)
    return [
        *find_settings_problems(settings),
        *find_app_route_problems(app),
        *find_environment_problems(settings, ENV_FILE),
    ]


def build_app_from_environment() -> FastAPI:
    settings = load_settings_or_exit()
    setup_logging(settings)
    for problem in find_environment_problems(settings, ENV_FILE):
        logger.warning("%s", problem)
    try:
        return create_app(settings)
    except UnsafeConfigurationError as exc:
        for problem in exc.problems:
            logger.critical("refusing to start: %s", problem)
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None
