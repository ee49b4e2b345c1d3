"""Per-client rate limits for routes that cost money, failing closed.

Defends against: one client, or one leaked key, running up a bill on a paid
route (authentication stops strangers, not authorised abuse); a stranger
rotating invalid keys for a fresh quota each time; several workers each
counting alone (use shared storage such as Redis); and a storage outage
silently switching the limits off (cost routes return 503 instead).

Built on `limits`, the engine under slowapi, as FastAPI dependencies rather
than slowapi's decorator. The decorator registers limits per function name
at import time and needs a `request` parameter, and placed above the route
decorator it does nothing, silently. A dependency is visible in the route's
signature, takes its limit from the app's settings at request time, and
runs with async storage. slowapi's
`SlowAPIMiddleware` is not used: it is a BaseHTTPMiddleware.

The limiter is read from `request.app.state.cost_limiter`; the authenticated
client id from `request.state.client_id`. Your authentication dependency
(`auth` below) must set `request.state.client_id`, as `APIKeyAuth` from
api_key.py does.

Needs: FastAPI, `limits` (and `redis` for redis:// storage), and behind a
proxy client_ip.py copied beside it. Imports nothing else from this project.

Wiring into an existing app::

    from client_ip import TrustedProxies, client_ip
    from rate_limit import CostLimiter, limit_failed_auth, per_client_limit

    proxies = TrustedProxies.parse(os.environ.get("FORWARDED_ALLOW_IPS", ""))
    app.state.cost_limiter = CostLimiter(
        "redis://127.0.0.1:6379/0",   # or "memory://" for one process
        auth_failure_limit="20/minute",
        # Failed authentications are counted per this address. Without this
        # argument it is the socket peer, which behind a proxy is the proxy.
        client_address=lambda request: client_ip(request.scope, proxies),
    )
    router = APIRouter(dependencies=[Depends(limit_failed_auth), Depends(auth)])  # order matters

    @router.post("/analyze", dependencies=[Depends(per_client_limit("analyze", "10/minute"))])
    async def analyze(...): ...

`limit_failed_auth` must come before the authentication dependency: it
refuses addresses over their failure quota and counts each 401 it sees.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request, Response, status
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

__all__ = [
    "CostLimiter",
    "LimitSource",
    "limit_failed_auth",
    "parse_limit",
    "per_client_limit",
]

logger = logging.getLogger(__name__)


class _RepeatedWarnings:
    """Log the first warning for a key, then at most one line per interval with a count.

    A client hammering a limit would otherwise write one log line per
    refused request.
    """

    def __init__(self, interval: float = 60.0, max_keys: int = 10_000) -> None:
        self._interval = interval
        self._max_keys = max_keys
        self._last_logged: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        last = self._last_logged.get(key)
        if last is not None and now - last < self._interval:
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return
        if len(self._last_logged) >= self._max_keys:
            # Bounded memory under many distinct clients: start counting afresh.
            self._last_logged.clear()
            self._skipped.clear()
        skipped = self._skipped.pop(key, 0)
        self._last_logged[key] = now
        if skipped:
            logger.warning(message + " (%d more since the last line)", *args, skipped)
        else:
            logger.warning(message, *args)


_limit_warnings = _RepeatedWarnings()

# A limit string, or a function of the request returning one (read from the
# app's settings at request time, so one router serves apps with different
# settings).
LimitSource = str | Callable[[Request], str]

# Seconds to wait for the storage before the request fails closed: a slow or
# unreachable Redis must not hold every cost request open.
STORAGE_TIMEOUT = 1.0


@functools.lru_cache(maxsize=64)
def parse_limit(value: str, variable: str = "limit") -> RateLimitItem:
    """Parse one limit such as `10/minute`; `ValueError` names `variable`."""
    try:
        item = parse(value)
    except ValueError:
        raise ValueError(
            f"{variable} must be one limit such as '10/minute' (N per second, minute, hour or day)"
        ) from None
    if item.amount < 1:
        raise ValueError(f"{variable} must allow at least one request")
    return item


@dataclass(frozen=True)
class LimitState:
    """The outcome of one hit: allowed or not, and the values for the headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.reset_at - time.time())))
        return headers


class CostLimiter:
    """Moving-window limits and counters in one storage, shared by every worker.

    `storage_uri` is `memory://` (this process only) or `redis://...`.
    `key_prefix` separates services (and test runs) sharing one Redis.
    """

    def __init__(
        self,
        storage_uri: str,
        *,
        auth_failure_limit: str = "20/minute",
        client_address: Callable[[Request], str] | None = None,
        key_prefix: str = "cost",
    ) -> None:
        self.auth_failure_limit = parse_limit(auth_failure_limit, "AUTH_FAILURE_RATE_LIMIT")
        self.client_address = client_address or _socket_peer
        self.storage, self._pool = _open_storage(storage_uri, key_prefix)
        self._strategy = MovingWindowRateLimiter(self.storage)
        self._storage_down = False

    async def hit(self, item: RateLimitItem, *identifiers: str) -> LimitState:
        """Count one request against `item` for `identifiers`."""
        allowed = await self._strategy.hit(item, *identifiers)
        return await self._state(item, allowed, *identifiers)

    async def is_exhausted(self, item: RateLimitItem, *identifiers: str) -> LimitState | None:
        """Return the state when no request is left under `item`, without counting one."""
        if await self._strategy.test(item, *identifiers):
            return None
        return await self._state(item, False, *identifiers)

    async def _state(self, item: RateLimitItem, allowed: bool, *identifiers: str) -> LimitState:
        stats = await self._strategy.get_window_stats(item, *identifiers)
        return LimitState(allowed, item.amount, stats.remaining, stats.reset_time)

    async def aclose(self) -> None:
        """Close the storage's connections (call it when the app stops)."""
        if self._pool is not None:
            await self._pool.aclose()

    async def ping(self) -> None:
        """Raise `ConnectionError` when the storage is unreachable (for a readiness check)."""
        if not await self.storage.check():
            raise ConnectionError("rate-limit storage did not respond to PING")

    @asynccontextmanager
    async def storage_guard(self, route: str) -> AsyncIterator[None]:
        """Turn a storage failure inside the block into 503, logging each outage once.

        A cost route whose counters cannot be read must not run unlimited.
        The first failure is logged with its cause. Later ones are logged only
        after the storage has recovered in between, so an outage is not one
        line per request.
        """
        try:
            yield
        except HTTPException:
            raise
        except Exception as exc:
            if not self._storage_down:
                self._storage_down = True
                # The exception type, not its text: a Redis error can quote
                # the URL, which may hold a password.
                logger.error(
                    "rate-limit storage failed, cost routes return 503 until it recovers: "
                    "route=%s error=%s",
                    route,
                    type(exc).__name__,
                )
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE) from None
        else:
            if self._storage_down:
                self._storage_down = False
                logger.warning("rate-limit storage recovered: route=%s", route)


def _socket_peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _open_storage(uri: str, key_prefix: str) -> tuple[Storage, ConnectionPool | None]:
    scheme = uri.split("://", 1)[0]
    storage: object
    pool: ConnectionPool | None = None
    if scheme == "memory":
        storage = storage_from_string("async+memory://")
    elif scheme in {"redis", "rediss"}:
        from redis.asyncio import ConnectionPool  # only needed for Redis storage

        # A pool of our own, so that `aclose` can close its connections.
        pool = ConnectionPool.from_url(
            uri, socket_timeout=STORAGE_TIMEOUT, socket_connect_timeout=STORAGE_TIMEOUT
        )
        storage = storage_from_string(
            f"async+{uri}",
            implementation="redispy",
            key_prefix=key_prefix,
            # limits types options as scalars; the redis-py bridge takes a pool.
            connection_pool=pool,  # type: ignore[arg-type]
        )
    else:
        raise ValueError("RATE_LIMIT_STORAGE_URI must start with memory://, redis:// or rediss://")
    # storage_from_string is typed for both the sync and the async storages.
    assert isinstance(storage, Storage)  # noqa: S101
    return storage, pool


def _limiter(request: Request) -> CostLimiter:
    limiter = getattr(request.app.state, "cost_limiter", None)
    if not isinstance(limiter, CostLimiter):
        # A cost route without its limiter must not run unlimited.
        logger.error("no cost limiter on app.state; rejecting %s", request.url.path)
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR)
    return limiter


def per_client_limit(scope: str, limit: LimitSource) -> Callable[..., Awaitable[None]]:
    """Return a dependency that counts each call of the route against its client.

    `scope` names the bucket (routes with the same scope share it). The
    route must be behind the API-key dependency: without a client id the
    dependency returns 500, never an unlimited pass.
    """

    async def dependency(request: Request, response: Response) -> None:
        limiter = _limiter(request)
        client_id = getattr(request.state, "client_id", None)
        if not isinstance(client_id, str):
            logger.error("cost route %s is not behind the API key", request.url.path)
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR)

        limit_value = limit(request) if callable(limit) else limit
        item = parse_limit(limit_value)
        async with limiter.storage_guard(scope):
            state = await limiter.hit(item, scope, "client", client_id)

        if not state.allowed:
            _limit_warnings.warning(
                f"{scope}:{client_id}",
                "rate limit reached: scope=%s client_id=%s",
                scope,
                client_id,
            )
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, headers=state.headers())
        response.headers.update(state.headers())

    return dependency


async def limit_failed_auth(request: Request) -> AsyncIterator[None]:
    """Limit the 401s per client address (a dependency placed before authentication).

    An address over its quota gets 429 before its key is even looked at, so
    trying a new invalid key each time buys nothing.
    """
    limiter = _limiter(request)
    address = limiter.client_address(request)
    item = limiter.auth_failure_limit

    async with limiter.storage_guard("auth-failure"):
        exhausted = await limiter.is_exhausted(item, "auth-failure", "ip", address)
    if exhausted is not None:
        _limit_warnings.warning(
            f"auth-failure:{address}", "failed-authentication limit reached: client_ip=%s", address
        )
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, headers=exhausted.headers())

    try:
        yield
    except HTTPException as exc:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            async with limiter.storage_guard("auth-failure"):
                await limiter.hit(item, "auth-failure", "ip", address)
        raise
