"""Build the app from the environment, as the server's entry point does.

This is the one place that reads the environment, configures logging and
turns a refused start into a short message and exit status 1 (no traceback,
which could show a value).
"""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI

from app.checks import UnsafeConfigurationError
from app.logging_config import configure_logging
from app.main import create_app
from app.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)


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


def build_app_from_environment() -> FastAPI:
    settings = load_settings_or_exit()
    setup_logging(settings)
    try:
        return create_app(settings)
    except UnsafeConfigurationError as exc:
        for problem in exc.problems:
            logger.critical("refusing to start: %s", problem)
        print(str(exc), file=sys.stderr)
        raise SystemExit(1) from None
