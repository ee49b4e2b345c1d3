"""Route inventory: every route is protected, listed as public, or an error.

Defends against: a route added later without authentication, and debug,
test or admin routes that reach production.

Needs: FastAPI. Imports nothing else from this project.

Wiring into an existing app (for example in a test, or at start-up)::

    from route_inventory import find_route_problems

    problems = find_route_problems(app, auth, public={("GET", "/healthz")})
    assert problems == []
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

__all__ = [
    "DEBUG_LIKE_PATH",
    "DEBUG_ROUTE_REASON",
    "UNPROTECTED_ROUTE_REASON",
    "RouteProblem",
    "find_route_problems",
    "is_protected",
]

# Path segments that name diagnostic or internal routes.
DEBUG_LIKE_PATH = re.compile(
    r"/_?(debug|test|tests|testing|config|configuration|env|environ|environment|settings|admin"
    r"|internal|dump|phpinfo|actuator|console|shell|eval|exec|trace|vars)(/|$|\.|_|-)",
    re.IGNORECASE,
)
DEBUG_ROUTE_REASON = "path looks like a debug route"
UNPROTECTED_ROUTE_REASON = "neither protected by the API key nor on the public list"


@dataclass(frozen=True)
class RouteProblem:
    method: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.reason}"


def _dependency_calls(dependant: Dependant) -> list[Any]:
    calls: list[Any] = []
    for dependency in dependant.dependencies:
        calls.append(dependency.call)
        calls.extend(_dependency_calls(dependency))
    return calls


def is_protected(route: Any, auth: Callable[..., Any]) -> bool:
    """Return whether `auth` is among the route's dependencies, at any depth.

    `route` is an `APIRoute` or a `RouteContext` from `iter_route_contexts`,
    which carries the dependencies added by `include_router` too.
    """
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return False
    return any(call is auth for call in _dependency_calls(dependant))


def find_route_problems(
    app: FastAPI,
    auth: Callable[..., Any],
    public: Collection[tuple[str, str]],
    *,
    framework_paths: Collection[str] = (),
) -> list[RouteProblem]:
    """List routes that are neither protected by `auth` nor in `public`, and debug-like paths.

    `public` contains (method, path) pairs. `framework_paths` are routes that
    the framework adds and the app controls by other means (the docs).
    """
    problems: list[RouteProblem] = []
    # FastAPI 0.16x keeps included routers as lazy entries in `app.routes`.
    # iter_route_contexts yields each effective route with its full path and
    # the dependencies of every include_router above it.
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path in framework_paths:
            continue
        methods = sorted(route.methods or {"*"})
        is_api_route = isinstance(route.original_route, APIRoute)

        if DEBUG_LIKE_PATH.search(path):
            problems.append(RouteProblem(",".join(methods), path, DEBUG_ROUTE_REASON))

        for method in methods:
            if method == "HEAD":
                continue  # served by the GET route with the same dependencies
            if (method, path) in public:
                continue
            if is_api_route and is_protected(route, auth):
                continue
            problems.append(RouteProblem(method, path, UNPROTECTED_ROUTE_REASON))
    return problems
