"""Logging set-up, called once by the entry point that starts the service.

Production writes one JSON object per line to standard output (for a log
collector); development and test write readable lines. Every record from a
request carries its request id, and any configured secret that reaches a
message is replaced by `[REDACTED]` before it is written.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterable

from asgi_correlation_id import CorrelationIdFilter

REDACTED = "[REDACTED]"


class RedactSecretsFilter(logging.Filter):
    """Replace known secret values in a record's message and traceback.

    The service never logs a key on purpose. This filter is the second line
    of defence, for a message built from data that happens to contain one.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short values would redact ordinary words; real secrets are long.
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        # Uvicorn adds `color_message`, a copy of the message with terminal
        # colour codes, which would otherwise become a field of each JSON line.
        record.__dict__.pop("color_message", None)
        if not self._secrets:
            return True

        # A traceback can quote a secret too: format it now so that the
        # handler's formatter reuses the redacted text.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self._secrets:
                record.exc_text = record.exc_text.replace(secret, REDACTED)

        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            if secret in redacted:
                redacted = redacted.replace(secret, REDACTED)
        if redacted is not message:
            record.msg = redacted
            record.args = None
        return True


def configure_logging(level: str, *, json_lines: bool, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger and quiet the libraries that would leak or flood."""
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "levelname": "level",
                "asctime": "time",
                "correlation_id": "request_id",
            },
        }
        if json_lines
        else {
            "format": "%(asctime)s %(levelname)-8s %(name)s [%(correlation_id)s] %(message)s",
        }
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {
                    "()": CorrelationIdFilter,
                    "uuid_length": 32,
                    "default_value": "-",
                },
                "redact": {"()": RedactSecretsFilter, "secrets": list(secrets)},
            },
            "formatters": {"default": formatter},
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "default",
                    "filters": ["request_id", "redact"],
                }
            },
            "root": {"level": level, "handlers": ["stdout"]},
            "loggers": {
                # Uvicorn's own handlers are replaced by the root handler above.
                "uvicorn": {"handlers": [], "propagate": True},
                "uvicorn.error": {"handlers": [], "propagate": True},
                # app.access replaces uvicorn's access line, which would log
                # the query string (where a careless client may put a key).
                "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
                # httpx and httpcore log every request URL at INFO and DEBUG.
                "httpx": {"level": "WARNING"},
                "httpx2": {"level": "WARNING"},
                "httpcore": {"level": "WARNING"},
                # asgi-correlation-id logs each rejected inbound id at WARNING,
                # which would let a client write one log line per request.
                "asgi_correlation_id": {"level": "ERROR"},
            },
        }
    )
