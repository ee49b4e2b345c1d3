# Semgrep rule tests for unlimited-paid-route.
import os
from typing import Annotated

import anthropic
import httpx
import openai
import requests
from fastapi import APIRouter, Depends, FastAPI, Request
from flask import Flask
from slowapi import Limiter
from slowapi.util import get_remote_address

app = FastAPI()
router = APIRouter()
flask_app = Flask(__name__)
limiter = Limiter(key_func=get_remote_address)
claude = anthropic.Anthropic()
gpt = openai.AsyncOpenAI()


def verify_key() -> str:
    return "client"


def per_client_limit(name: str):
    def dependency() -> None:
        return None

    return dependency


@app.post("/api/summarise", dependencies=[Depends(verify_key)])
def summarise(text: str) -> dict[str, str]:
    # ruleid: unlimited-paid-route
    message = claude.messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=512,
        messages=[{"role": "user", "content": text}],
    )
    return {"summary": message.content[0].text}


@router.post("/chat")
async def chat(prompt: str, client_id: str = Depends(verify_key)) -> dict[str, str]:
    # ruleid: unlimited-paid-route
    completion = await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
    )
    return {"answer": completion.choices[0].message.content or ""}


@app.post("/api/raw")
async def raw(prompt: str) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        # ruleid: unlimited-paid-route
        response = await client.post(
            "https://api.anthropic.com/v1/messages",
            headers={"x-api-key": os.environ["AI_API_KEY"]},
            json={"messages": [{"role": "user", "content": prompt}]},
        )
    return response.json()


@flask_app.route("/ask", methods=["POST"])
def ask() -> dict[str, object]:
    # ruleid: unlimited-paid-route
    response = requests.post("https://api.openai.com/v1/chat/completions", json={})
    return response.json()


# The fix: a per-client rate limit on the route (and a budget behind it).
@app.post("/api/limited")
@limiter.limit("10/minute")
def limited(request: Request, text: str) -> dict[str, str]:
    # ok: unlimited-paid-route
    message = claude.messages.create(model="m", max_tokens=1, messages=[])
    return {"summary": message.content[0].text}


AnalyzeLimit = Depends(per_client_limit("analyze"))


@router.post("/analyze", dependencies=[AnalyzeLimit])
async def analyze(prompt: str) -> dict[str, str]:
    # ok: unlimited-paid-route
    completion = await gpt.chat.completions.create(model="m", messages=[])
    return {"answer": completion.choices[0].message.content or ""}


@router.post("/analyze2")
async def analyze_with_parameter(
    prompt: str, _limit: Annotated[None, Depends(per_client_limit("analyze"))]
) -> dict[str, str]:
    # ok: unlimited-paid-route
    completion = await gpt.chat.completions.create(model="m", messages=[])
    return {"answer": completion.choices[0].message.content or ""}


# Not a route: a helper, which the rule cannot tie to a route.
def helper(text: str) -> str:
    # ok: unlimited-paid-route
    message = claude.messages.create(model="m", max_tokens=1, messages=[])
    return message.content[0].text


@app.get("/api/articles")
def articles() -> list[str]:
    # ok: unlimited-paid-route
    response = httpx.post("https://internal.example.com/search", json={})
    return response.json()
