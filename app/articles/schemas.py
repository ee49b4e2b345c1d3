"""Request and response bodies for articles.

`ArticleIn` is the one definition of a valid article: the JSON route and the
spreadsheet import both validate against it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, HttpUrl, StringConstraints

from app.articles.models import SUMMARY_MAX_LENGTH, TITLE_MAX_LENGTH

# Tab, line feed and carriage return are allowed; other control characters
# are not (PostgreSQL rejects NUL in text, and none belongs in a title).
# Bidirectional overrides and isolates (U+202A to U+202E, U+2066 to U+2069)
# are refused too: they make a title display differently from its text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _reject_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _reject_credentials(url: HttpUrl) -> HttpUrl:
    # A user name or password in a public link leaks it to every reader.
    if url.username or url.password:
        raise ValueError("must not contain a user name or password")
    return url


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH),
    AfterValidator(_reject_control_characters),
]
Summary = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=SUMMARY_MAX_LENGTH),
    AfterValidator(_reject_control_characters),
]


class ArticleIn(BaseModel):
    """A new article. `url` must be an absolute http or https address."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    summary: Summary = ""
    # HttpUrl accepts only the http and https schemes, so `javascript:`,
    # `data:` and relative URLs are rejected before anything is stored.
    url: Annotated[HttpUrl, AfterValidator(_reject_credentials)]


def _as_utc(value: datetime) -> datetime:
    # SQLite drops the time zone on the way back; every stored time is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    summary: str
    url: str
    created_at: Annotated[datetime, AfterValidator(_as_utc)]


class ArticlePage(BaseModel):
    """One page of articles, newest first, and the total count for paging."""

    items: list[ArticleOut]
    total: int
    limit: int
    offset: int
