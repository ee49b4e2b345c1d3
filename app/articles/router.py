"""Article routes: public reads, and a create that needs an API key."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import func, select

from app.articles.models import Article
from app.articles.schemas import ArticleIn, ArticleOut, ArticlePage
from app.deps import ClientId, DatabaseDep
from app.security.strict_json import StrictJSONRoute

# Article ids are 64-bit in PostgreSQL and SQLite. A larger path value would
# overflow in the driver, so it is a 422 before any query runs.
MAX_ID = 2**63 - 1
MAX_OFFSET = 1_000_000

logger = logging.getLogger(__name__)

public_router = APIRouter(prefix="/api/articles", tags=["articles"], route_class=StrictJSONRoute)
protected_router = APIRouter(prefix="/api/articles", tags=["articles"], route_class=StrictJSONRoute)


@public_router.get("")
def list_articles(
    database: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ArticlePage:
    """List articles, newest first."""
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Article)) or 0
        rows = session.scalars(
            select(Article)
            .order_by(Article.created_at.desc(), Article.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        items = [ArticleOut.model_validate(row) for row in rows]
    return ArticlePage(items=items, total=total, limit=limit, offset=offset)


@public_router.get("/{article_id}")
def get_article(
    article_id: Annotated[int, Path(ge=1, le=MAX_ID)], database: DatabaseDep
) -> ArticleOut:
    """Return one article by id."""
    with database.session() as session:
        article = session.get(Article, article_id)
        found = None if article is None else ArticleOut.model_validate(article)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return found


@protected_router.post("", status_code=status.HTTP_201_CREATED)
def create_article(body: ArticleIn, database: DatabaseDep, client_id: ClientId) -> ArticleOut:
    """Create an article. Needs an API key in `X-API-Key`."""
    with database.session() as session:
        article = Article(title=body.title, summary=body.summary, url=str(body.url))
        session.add(article)
        session.commit()
        created = ArticleOut.model_validate(article)
    logger.info("article created: id=%d client_id=%s", created.id, client_id)
    return created
