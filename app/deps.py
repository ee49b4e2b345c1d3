"""Dependencies shared by the routers: settings, database, client id, cost limits."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from app.db import Database
from app.security.rate_limit import per_client_limit
from app.settings import Settings

logger = logging.getLogger(__name__)


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def`
# dependency in its thread pool, which costs more than the work itself.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    """Return the app's database; routes open a session with `with database.session()`."""
    database: Database = request.app.state.database
    return database


async def get_client_id(request: Request) -> str:
    """Return the client id that the API-key dependency stored for this request.

    A route that requests a client id but was mounted without the API-key
    dependency gets 500 instead of running unauthenticated.
    """
    client_id = getattr(request.state, "client_id", None)
    if not isinstance(client_id, str):
        logger.error("route %s requests a client id but is not protected", request.url.path)
        raise HTTPException(500)
    return client_id


def cost_limit(scope: str, setting: str) -> Any:
    """Return `Depends(...)` for a per-client limit read from the setting named `setting`.

    For a route that costs money: `dependencies=[cost_limit("import",
    "import_rate_limit")]`, on a router that `create_app` includes behind
    `limit_failed_auth` and the API key. Routes with the same `scope` share
    one bucket per client.
    """

    def limit_of(request: Request) -> str:
        value: str = getattr(request.app.state.settings, setting)
        return value

    return Depends(per_client_limit(scope, limit_of))


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ClientId = Annotated[str, Depends(get_client_id)]
