"""The baseline: the service's benchmarked routes on bare FastAPI, with no controls.

No middleware, no API key, no rate limit and no logging. The article list
uses the service's own router and database code, so the ratio of the two
servers measures the controls, not a different query. Start it with
`uvicorn bench.bare_app:app`; `BENCH_DATABASE_URL` names the database.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from pydantic import BaseModel

from app.articles import router as articles
from app.db import Database

database = Database(os.environ.get("BENCH_DATABASE_URL", "sqlite:///data/bench.db"))
app = FastAPI()
app.state.database = database
app.include_router(articles.public_router)


class Identity(BaseModel):
    client_id: str


class AnalysisRequest(BaseModel):
    text: str


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/me")
async def me() -> Identity:
    return Identity(client_id="alice")


@app.post("/api/analyze")
async def analyze(body: AnalysisRequest) -> dict[str, object]:
    # NOTE: this returns a fixed-shape result without calling the offline
    # provider, so the analyze ratio also counts the provider's own work.
    return {"summary": body.text[:200], "words": len(body.text.split())}
