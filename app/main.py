"""The application factory, and `app` for `uvicorn app.main:app`.

`create_app(settings)` builds an app from explicit settings (tests use it).
`app` is built from the environment on first access, not at import, so that
importing this module never reads the environment or refuses to start.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from app.analysis import router as analysis
from app.analysis.providers import build_provider
from app.articles import router as articles
from app.articles.importer import import_router
from app.checks import (
    Problem,
    UnsafeConfigurationError,
    errors_only,
    find_settings_problems,
    route_problem,
)
from app.db import Database
from app.db_errors import install_database_error_handler
from app.docs_routes import DOCS_PATHS, OPENAPI_URL, add_docs_routes
from app.health import ReadinessCheck
from app.health import protected_router as identity_router
from app.health import public_router as health_router
from app.security.access_log import AccessLogMiddleware
from app.security.api_key import APIKeyAuth
from app.security.body_limit import add_body_limit
from app.security.budget import BudgetCaps, DailyBudget
from app.security.client_ip import TrustedProxies, client_ip
from app.security.cors import CORSAllowlistMiddleware
from app.security.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    ErrorBoundaryMiddleware,
    install_error_handlers,
)
from app.security.headers import SecurityHeadersMiddleware
from app.security.rate_limit import CostLimiter, limit_failed_auth
from app.security.request_id import add_request_id_middleware
from app.security.route_inventory import find_route_problems
from app.security.temp_files import private_folder, remove_leftover_files
from app.security.trusted_hosts import TrustedHostsMiddleware
from app.settings import Settings
from app.web import router as web

logger = logging.getLogger(__name__)

# Routes anyone may call. Every other route must depend on the API key;
# create_app refuses to build an app with a route that is neither.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/api/articles"),
        ("GET", "/api/articles/{article_id}"),
        ("GET", "/"),
        ("GET", "/static/app.js"),
        ("GET", "/static/app.css"),
    }
)


def create_app(settings: Settings, *, gate: bool = True) -> FastAPI:
    """Build the service from `settings`, refusing unsafe settings and routes.

    The gate raises `UnsafeConfigurationError` listing every error at once:
    the settings rules in production, the route rules in every environment.
    `gate=False` builds the app without raising, for `python -m app check`,
    which reports the same problems itself; the server never passes it.
    """
    database = Database(settings.sqlalchemy_url)
    cost_limiter = _build_cost_limiter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(database.create_schema)
        # Files a killed process left behind hold user data; remove them
        # before serving.
        upload_folder = private_folder(settings.upload_tmp_dir)
        removed = remove_leftover_files(upload_folder)
        logger.info("upload folder ready: removed %d leftover file(s)", removed)
        # One HTTP client for the app's lifetime, closed with it.
        provider = build_provider(settings)
        app.state.ai_provider = provider
        logger.info("service started: env=%s ai_provider=%s", settings.app_env, provider.name)
        try:
            yield
        finally:
            await provider.aclose()
            await cost_limiter.aclose()
            database.dispose()
            logger.info("service stopped")

    app = FastAPI(
        title="Hardened FastAPI service",
        # debug=True would make Starlette respond to errors with tracebacks,
        # so no setting turns it on, in any environment.
        debug=False,
        # The docs pages are added below, with their own policy; FastAPI's
        # would be blank under the API's Content-Security-Policy.
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL if settings.show_docs else None,
        lifespan=lifespan,
    )
    auth = APIKeyAuth(settings.api_keys)
    app.state.settings = settings
    app.state.database = database
    app.state.auth = auth
    app.state.cost_limiter = cost_limiter
    app.state.ai_budget = DailyBudget(
        cost_limiter.storage,
        BudgetCaps(
            client_calls=settings.ai_daily_budget_calls,
            client_tokens=settings.ai_daily_budget_tokens,
            total_calls=settings.ai_daily_budget_total_calls,
            total_tokens=settings.ai_daily_budget_total_tokens,
        ),
        prefix="ai-budget",
    )

    async def database_ready() -> None:
        await run_in_threadpool(app.state.database.ping)

    readiness_checks: dict[str, ReadinessCheck] = {
        "database": database_ready,
        "rate_limit_storage": cost_limiter.ping,
    }
    app.state.readiness_checks = readiness_checks

    if settings.show_docs:
        add_docs_routes(app)
    install_error_handlers(app)
    install_database_error_handler(app)
    _include_routers(app, auth)

    if gate:
        _reject_unsafe_start(settings, app)

    # Middleware added last runs first. From the outside in:
    # - request id: outermost, so every response below gets exactly one
    #   X-Request-ID and every layer reads the same id from the request;
    # - access log: logs every request, the rejected ones included;
    # - security headers: outside every layer that sends its own response
    #   (the Host check's 400, CORS preflights, the error boundary's 500),
    #   so those responses carry the headers too;
    # - trusted hosts: rejects a foreign Host before any CORS or app work;
    # - CORS: outside the error boundary, so a browser page on an allowed
    #   origin can read a 500's error id;
    # - error boundary: turns an unhandled exception into the generic 500;
    # - body limit: innermost, and the import router raises it for its route.
    add_body_limit(app, settings.max_body_bytes)
    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(
        CORSAllowlistMiddleware,
        allowed_origins=settings.allowed_origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_all_origins=settings.allow_all_origins,
    )
    app.add_middleware(TrustedHostsMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    app.add_middleware(AccessLogMiddleware)
    add_request_id_middleware(app)
    return app


def _include_routers(app: FastAPI, auth: APIKeyAuth) -> None:
    settings: Settings = app.state.settings
    protected = [Depends(auth)]
    # The error statuses and bodies go into the OpenAPI schema, so clients
    # and schema-driven tests see the responses the error layer really sends.
    public_errors = ERROR_RESPONSES
    protected_errors = {
        **ERROR_RESPONSES,
        401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    }
    # Routes that cost money: a per-address quota of failed keys first (it
    # must see the 401), then the key. Each route adds its per-client limit
    # with `dependencies=[cost_limit(scope, setting)]` (app/deps.py).
    cost_protected = [Depends(limit_failed_auth), Depends(auth)]

    app.include_router(health_router, responses=public_errors)
    app.include_router(identity_router, dependencies=protected, responses=protected_errors)
    app.include_router(
        articles.public_router, responses={**public_errors, 404: {"model": ErrorBody}}
    )
    app.include_router(
        articles.protected_router, dependencies=protected, responses=protected_errors
    )
    # The one route whose body may exceed MAX_BODY_BYTES.
    app.include_router(
        import_router,
        dependencies=cost_protected,
        responses=protected_errors,
        max_body_size=settings.max_upload_bytes,
    )
    app.include_router(analysis.router, dependencies=cost_protected, responses=protected_errors)
    # The page sets its own headers, and errors on it are the same generic body.
    app.include_router(web.router)


def _build_cost_limiter(settings: Settings) -> CostLimiter:
    """Build the limiter that every worker's cost routes share through its storage."""
    proxies = TrustedProxies.parse(settings.forwarded_allow_ips)
    return CostLimiter(
        settings.rate_limit_storage_uri.get_secret_value(),
        auth_failure_limit=settings.auth_failure_rate_limit,
        client_address=lambda request: client_ip(request.scope, proxies),
        key_prefix=settings.rate_limit_key_prefix,
    )


def find_app_route_problems(app: FastAPI) -> list[Problem]:
    """List routes of an app from `create_app` that are unprotected or debug-like."""
    findings = find_route_problems(app, app.state.auth, PUBLIC_ROUTES, framework_paths=DOCS_PATHS)
    return [route_problem(finding) for finding in findings]


def _reject_unsafe_start(settings: Settings, app: FastAPI) -> None:
    problems = find_app_route_problems(app)
    if settings.is_production:
        problems = [*find_settings_problems(settings), *problems]
    errors = errors_only(problems)
    if errors:
        raise UnsafeConfigurationError(errors)
    for problem in problems:
        logger.warning("%s", problem)


_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # Module-level __getattr__ (PEP 562): `uvicorn app.main:app` and
    # `fastapi run app/main.py` look up `app`, which is built here once.
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        from app.entrypoint import build_app_from_environment

        _app = build_app_from_environment()
    return _app
