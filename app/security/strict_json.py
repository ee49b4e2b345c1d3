"""Strict JSON request bodies: duplicate keys and non-standard constants are rejected.

Defends against: request smuggling through ambiguous JSON. With
`{"role": "user", "role": "admin"}` Python keeps the last value while a proxy,
a WAF or another service in the chain may keep the first, so each layer sees
a different request. `NaN` and `Infinity` are not JSON (RFC 8259) and break
other parsers and databases downstream.

Needs: FastAPI. Imports nothing else from this project.

Wiring into an existing app::

    from strict_json import StrictJSONRoute

    router = APIRouter(route_class=StrictJSONRoute)   # for each router

A rejected body gets FastAPI's 400 (errors.py, where copied too, makes it
the generic body); a body that is not JSON at all stays FastAPI's 422.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

__all__ = ["StrictJSONRequest", "StrictJSONRoute", "loads_strict"]


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError("duplicate key in JSON object")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON like `json.loads`, raising ValueError on duplicate keys, NaN or Infinity."""
    return json.loads(
        data, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
    )


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute whose handlers parse JSON bodies with `loads_strict`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
