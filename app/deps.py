"""Dependencies shared by the routers: settings, database session, client id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.db import Database
from app.settings import Settings

logger = logging.getLogger(__name__)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    database: Database = request.app.state.database
    yield from database.session()


def get_client_id(request: Request) -> str:
    """Return the client id that the API-key dependency stored for this request.

    A route that requests a client id but was mounted without the API-key
    dependency gets 500 instead of running unauthenticated.
    """
    client_id = getattr(request.state, "client_id", None)
    if not isinstance(client_id, str):
        logger.error("route %s requests a client id but is not protected", request.url.path)
        raise HTTPException(500)
    return client_id


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ClientId = Annotated[str, Depends(get_client_id)]
