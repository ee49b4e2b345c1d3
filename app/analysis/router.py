"""POST /api/analyze: a summary and keywords from the configured AI provider.

The route is rate limited per client (ANALYZE_RATE_LIMIT), and each call
reserves its share of the daily budget before the provider is called. The
router is included by `create_app` behind `limit_failed_auth` and the API
key, in that order.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from app.analysis.providers import Provider, UpstreamError, UpstreamTimeoutError
from app.analysis.schemas import AnalyzeIn, AnalyzeOut
from app.articles.models import Article
from app.db import Database
from app.deps import ClientId, SettingsDep, cost_limit
from app.security.budget import BudgetExceededError, DailyBudget
from app.security.rate_limit import CostLimiter

logger = logging.getLogger(__name__)

# Rough upper bound of tokens per character of input, for the reservation
# made before the call (English text averages about a quarter of a token).
TOKENS_PER_CHAR = 0.5

router = APIRouter(prefix="/api", tags=["analysis"])


@router.post(
    "/analyze",
    dependencies=[cost_limit("analyze", "analyze_rate_limit")],
    responses={429: {"description": "rate limit or daily budget reached"}},
)
async def analyze(
    body: AnalyzeIn, request: Request, client_id: ClientId, settings: SettingsDep
) -> AnalyzeOut:
    """Summarise a text, or a stored article, and list its keywords.

    Give exactly one of `text` and `article_id`. Responses from the offline
    analyser have `offline: true`.
    """
    text = body.text if body.text is not None else await _article_text(request, body.article_id)
    if len(text) > settings.ai_max_text_chars:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE)

    provider: Provider = request.app.state.ai_provider
    limiter: CostLimiter = request.app.state.cost_limiter
    budget: DailyBudget = request.app.state.ai_budget

    reserved_tokens = settings.ai_max_tokens + int(len(text) * TOKENS_PER_CHAR) + 1
    async with limiter.storage_guard("analyze"):
        try:
            reservation = await budget.reserve(client_id, tokens=reserved_tokens)
        except BudgetExceededError as exc:
            logger.warning("daily budget used up: budget=%s client_id=%s", exc.budget, client_id)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.retry_after)},
            ) from None

    # A failed call keeps its reservation: a provider that timed out may
    # still bill the work, so giving the tokens back could pass the cap.
    try:
        analysis = await provider.analyze(text)
    except UpstreamTimeoutError as exc:
        _log_upstream_failure(provider, exc, client_id)
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT) from None
    except UpstreamError as exc:
        _log_upstream_failure(provider, exc, client_id)
        raise HTTPException(status.HTTP_502_BAD_GATEWAY) from None

    # The call happened and is paid for, so a storage failure here must not
    # turn a good reply into an error. It is logged, and the reserved tokens
    # stay counted (the safe side).
    try:
        await budget.settle(reservation, tokens_used=analysis.tokens_used)
    except Exception as exc:
        logger.warning(
            "could not settle the budget; reserved tokens stay counted: client_id=%s error=%s",
            client_id,
            type(exc).__name__,
        )

    return AnalyzeOut(
        summary=analysis.summary,
        keywords=analysis.keywords,
        provider=provider.name,
        model=provider.model,
        offline=provider.name == "offline",
    )


async def _article_text(request: Request, article_id: int | None) -> str:
    database: Database = request.app.state.database

    def load() -> str | None:
        with database.session() as session:
            article = session.get(Article, article_id)
            return None if article is None else f"{article.title}\n\n{article.summary}"

    text = await run_in_threadpool(load)
    if text is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return text


def _log_upstream_failure(provider: Provider, exc: UpstreamError, client_id: str) -> None:
    # The request id is added to every record by the logging filter. The
    # reason is fixed text; the upstream's body and the URL are never logged.
    logger.warning(
        "upstream call failed: provider=%s reason=%s status=%s elapsed_ms=%d client_id=%s",
        provider.name,
        exc.reason,
        exc.status if exc.status is not None else "-",
        round(exc.elapsed * 1000),
        client_id,
    )
