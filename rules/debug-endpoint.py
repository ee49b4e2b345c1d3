# Semgrep rule tests for debug-endpoint.
import os

from fastapi import APIRouter, FastAPI
from flask import Blueprint, Flask
from starlette.applications import Starlette
from starlette.routing import Mount, Route

app = FastAPI()
router = APIRouter()
flask_app = Flask(__name__)
blueprint = Blueprint("ops", __name__)


# ruleid: debug-endpoint
@app.get("/debug/config")
def debug_config() -> dict[str, str]:
    return dict(os.environ)


# ruleid: debug-endpoint
@router.get("/_debug")
async def underscore_debug() -> dict[str, str]:
    return {}


# ruleid: debug-endpoint
@app.get("/config")
def config() -> dict[str, str]:
    return {}


# ruleid: debug-endpoint
@router.post("/api/env")
def env() -> dict[str, str]:
    return {}


# ruleid: debug-endpoint
@app.api_route("/test-email", methods=["POST"])
def test_email() -> None:
    return None


# ruleid: debug-endpoint
@flask_app.route("/debug")
def flask_debug() -> str:
    return ""


# ruleid: debug-endpoint
@blueprint.get("/settings.json")
def flask_settings() -> str:
    return ""


async def dump(request):
    return None


starlette_app = Starlette(
    routes=[
        # ruleid: debug-endpoint
        Route("/_env", dump),
        # ruleid: debug-endpoint
        Mount("/debug", routes=[]),
    ]
)

# ruleid: debug-endpoint
app.add_api_route("/testing", dump)
# ruleid: debug-endpoint
flask_app.add_url_rule("/phpinfo", view_func=dump)


# Ordinary routes whose names only start like a debug word.
# ok: debug-endpoint
@app.get("/api/testimonials")
def testimonials() -> list[str]:
    return []


# ok: debug-endpoint
@app.get("/api/environments/{name}")
def environment(name: str) -> dict[str, str]:
    return {}


# ok: debug-endpoint
@router.get("/api/articles/{article_id}")
def article(article_id: int) -> dict[str, int]:
    return {"id": article_id}


# The template's own public routes.
# ok: debug-endpoint
@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


# ok: debug-endpoint
@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


# A dependency that is not a route.
# ok: debug-endpoint
@app.middleware("http")
async def middleware(request, call_next):
    return await call_next(request)
