"""Liveness, readiness and identity routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from app.deps import ClientId

logger = logging.getLogger(__name__)

# A readiness check raises when its dependency is unavailable. Checks are
# registered on `app.state.readiness_checks` by the parts that own them.
ReadinessCheck = Callable[[], Awaitable[None]]

public_router = APIRouter(tags=["health"])
protected_router = APIRouter(prefix="/api", tags=["identity"])


class Status(BaseModel):
    status: str


class Identity(BaseModel):
    client_id: str


@public_router.get("/healthz")
async def healthz() -> Status:
    """Liveness: the process is up and serving. Checks no dependency."""
    return Status(status="ok")


@public_router.get("/readyz")
async def readyz(request: Request) -> Status:
    """Readiness: every dependency the service needs is reachable. 503 when one is not."""
    checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
    for name, check in checks.items():
        try:
            await check()
        except Exception as exc:
            # The body stays generic; the log names the dependency and the
            # exception type (its text may hold a connection URL).
            logger.warning("readiness check failed: check=%s error=%s", name, type(exc).__name__)
            raise HTTPException(503) from None
    return Status(status="ready")


@protected_router.get("/me")
async def me(client_id: ClientId) -> Identity:
    """Return the client id that the presented API key belongs to."""
    return Identity(client_id=client_id)
