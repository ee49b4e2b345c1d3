"""A daily budget of paid upstream calls and tokens, reserved before each call.

Defends against: a bill that rate limits alone do not bound (10 calls a
minute is 14,400 a day), and parallel requests overshooting a budget that is
checked first and counted after the call. Each call reserves its calls and
its worst-case tokens with an atomic increment first. A reservation that
passes a cap is rolled back and rejected, so any number of simultaneous
requests stays within the cap. After the call, unused tokens are given back (or the excess
charged).

Budgets run per client and in total, per UTC day; a cap of 0 turns that
budget off.

Needs: an async counter storage with `incr(key, expiry, amount)`, such as
`limits.aio.storage` (memory or Redis; Redis when several workers share
one budget). Imports nothing else from this project.

Wiring into an existing app::

    from limits.storage import storage_from_string
    from budget import BudgetCaps, BudgetExceededError, DailyBudget

    storage = storage_from_string("async+memory://")  # or "async+redis://host:6379/0"
    budget = DailyBudget(storage, BudgetCaps(client_calls=200, client_tokens=200_000))
    try:
        reservation = await budget.reserve(client_id, tokens=max_tokens + prompt_tokens)
    except BudgetExceededError as exc:
        raise HTTPException(429) from None   # exc.budget names the cap
    reply = await call_upstream(...)
    await budget.settle(reservation, tokens_used=reply.tokens)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Protocol

__all__ = ["BudgetCaps", "BudgetExceededError", "CounterStorage", "DailyBudget", "Reservation"]

# Counters outlive their day by one more, so a request that starts just
# before midnight still finds its own counter when it settles.
COUNTER_EXPIRY_SECONDS = 2 * 24 * 3600


class CounterStorage(Protocol):
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...


class BudgetExceededError(Exception):
    """A reservation would pass a cap; `budget` names it, such as `client_calls`."""

    def __init__(self, budget: str) -> None:
        self.budget = budget
        super().__init__(f"daily budget {budget} is used up")

    @property
    def retry_after(self) -> int:
        """Return the seconds until the budgets start again, at the next UTC midnight."""
        now = datetime.now(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=UTC)
        return max(1, math.ceil((midnight - now).total_seconds()))


@dataclass(frozen=True)
class BudgetCaps:
    """Caps per UTC day; 0 turns a cap off."""

    client_calls: int = 0
    client_tokens: int = 0
    total_calls: int = 0
    total_tokens: int = 0


@dataclass
class Reservation:
    """Token counters one call has reserved, to settle after the call."""

    tokens_key_amounts: list[tuple[str, int]] = field(default_factory=list)
    reserved_tokens: int = 0


class DailyBudget:
    def __init__(
        self, storage: CounterStorage, caps: BudgetCaps, *, prefix: str = "budget"
    ) -> None:
        self._storage = storage
        self._caps = caps
        self._prefix = prefix

    async def reserve(self, client_id: str, *, tokens: int) -> Reservation:
        """Reserve one call and `tokens` for `client_id`, or raise `BudgetExceededError`."""
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        counters = [
            ("client_calls", f"{self._prefix}:{day}:calls:client:{client_id}", 1),
            ("total_calls", f"{self._prefix}:{day}:calls:total", 1),
            ("client_tokens", f"{self._prefix}:{day}:tokens:client:{client_id}", tokens),
            ("total_tokens", f"{self._prefix}:{day}:tokens:total", tokens),
        ]

        reserved_counters: list[tuple[str, int]] = []
        try:
            for name, key, amount in counters:
                cap: int = getattr(self._caps, name)
                if cap <= 0:
                    continue
                value = await self._storage.incr(key, COUNTER_EXPIRY_SECONDS, amount)
                reserved_counters.append((key, amount))
                if value > cap:
                    raise BudgetExceededError(name)
        except BaseException:
            # Give back everything this call took, the counter that passed
            # its cap included, so a rejected call costs no budget.
            await self._give_back(reserved_counters)
            raise

        token_keys = [(key, amount) for key, amount in reserved_counters if ":tokens:" in key]
        return Reservation(token_keys, tokens)

    async def settle(self, reservation: Reservation, *, tokens_used: int | None) -> None:
        """Replace the reserved tokens by those used (`None`, not reported: keep them)."""
        if tokens_used is None:
            return
        unused = reservation.reserved_tokens - max(tokens_used, 0)
        if unused != 0:
            # Negative when the call used more than reserved: charged in full.
            await self._give_back([(key, unused) for key, _ in reservation.tokens_key_amounts])

    async def _give_back(self, reserved_counters: list[tuple[str, int]]) -> None:
        for key, amount in reserved_counters:
            await self._storage.incr(key, COUNTER_EXPIRY_SECONDS, -amount)
