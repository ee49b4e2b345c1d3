"""Request and response bodies of POST /api/analyze."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProviderName = Literal["offline", "anthropic", "openai"]


class AnalyzeIn(BaseModel):
    """Exactly one of `text` and `article_id`.

    The length of `text` is checked against AI_MAX_TEXT_CHARS by the route,
    since the limit is a setting; this model only bounds it absolutely.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    article_id: int | None = Field(default=None, ge=1, le=2**63 - 1)

    @model_validator(mode="after")
    def _exactly_one(self) -> AnalyzeIn:
        if (self.text is None) == (self.article_id is None):
            raise ValueError("give exactly one of text and article_id")
        return self


class AnalyzeOut(BaseModel):
    summary: str
    keywords: list[str]
    provider: ProviderName
    model: str
    offline: bool
