"""A small article service with the eight faults, for the audit's own test."""

import os
import tempfile

import httpx
from fastapi import FastAPI, Header, HTTPException, UploadFile
from fastapi.middleware.cors import CORSMiddleware

# Committed "for a quick test", so it stays in history.
AI_API_KEY = "q7Bv2kLm9XzR4tWp8NsYhDc3"  # pragma: allowlist secret
SERVICE_API_KEY = os.environ.get("SERVICE_API_KEY")

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])


def check_key(x_api_key: str = Header("")) -> None:
    if SERVICE_API_KEY and x_api_key != SERVICE_API_KEY:
        raise HTTPException(401)


@app.get("/debug/config")
def debug_config() -> dict[str, str]:
    return {"database": os.environ.get("DATABASE_URL", ""), "ai_base_url": "https://api.openai.com"}


@app.get("/api/articles/{article_id}")
def get_article(article_id: int) -> dict[str, object]:
    try:
        return load_article(article_id)
    except Exception as e:
        raise HTTPException(status_code=500, detail=str(e)) from e


@app.post("/api/analyze")
async def analyze(text: str, x_api_key: str = Header("")) -> dict[str, object]:
    check_key(x_api_key)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            "https://api.openai.com/v1/chat/completions",
            headers={"Authorization": f"Bearer {AI_API_KEY}"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
        )
    return response.json()


@app.post("/api/import")
async def import_articles(upload: UploadFile) -> dict[str, int]:
    tmp = tempfile.NamedTemporaryFile(delete=False, suffix=".xlsx")
    tmp.write(await upload.read())
    tmp.close()
    count = parse_spreadsheet(tmp.name)
    os.unlink(tmp.name)
    return {"imported": count}


def load_article(article_id: int) -> dict[str, object]:
    raise LookupError(f"no row {article_id} in articles (user app on db.internal)")


def parse_spreadsheet(path: str) -> int:
    raise ValueError(path)
