# Semgrep rule tests for cors-wildcard and cors-wildcard-flask.
import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from flask import Flask
from flask_cors import CORS
from starlette.applications import Starlette
from starlette.middleware import Middleware

app = FastAPI()

# ruleid: cors-wildcard
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])

# ruleid: cors-wildcard
app.add_middleware(
    CORSMiddleware,
    allow_origins=["https://app.example.com", "*"],
    allow_credentials=True,
)

# ruleid: cors-wildcard
app.add_middleware(CORSMiddleware, allow_origin_regex=".*")

# ruleid: cors-wildcard
app.add_middleware(CORSMiddleware, allow_origin_regex="https?://.*")

starlette_app = Starlette(
    # ruleid: cors-wildcard
    middleware=[Middleware(CORSMiddleware, allow_origins=("*",))]
)

flask_app = Flask(__name__)
# ruleid: cors-wildcard-flask
CORS(flask_app)
# ruleid: cors-wildcard-flask
CORS(flask_app, origins="*")

# The fix: an allowlist read from the environment, explicit methods and headers.
allowed_origins = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
# ok: cors-wildcard
app.add_middleware(
    CORSMiddleware,
    allow_origins=allowed_origins,
    allow_methods=["GET", "POST"],
    allow_headers=["X-API-Key", "Content-Type"],
)

# ok: cors-wildcard
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])

# ok: cors-wildcard
app.add_middleware(CORSMiddleware, allow_origin_regex=r"https://[a-z0-9-]+\.example\.com")

# ok: cors-wildcard-flask
CORS(flask_app, origins=["https://app.example.com"])
