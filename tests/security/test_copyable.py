"""Each module in app/security/ works when copied alone into another app.

A copier takes one file, puts it beside their own code and wires it as its
docstring says. These tests do exactly that: the module is copied into an
empty temporary folder, a minimal FastAPI app written here imports it as a
top-level module, and a check script runs in a separate Python process whose
path does not contain this repository, so an import of `app.` fails there.

To cover a new module, add a `CopyCase` to `COPY_CASES`: the app wired as
the module's docstring says, and a check of its main behaviour.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

SECURITY_DIR = Path(__file__).resolve().parent.parent.parent / "app" / "security"
SECURITY_MODULES = sorted(SECURITY_DIR.glob("*.py"))


def imports_from_project(source: str) -> list[str]:
    """Return each import of `app` or `app.*`, and each relative import, in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "app"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level > 0 or module.split(".")[0] == "app":
                found.append("." * node.level + module)
    return found


@pytest.mark.parametrize("module", SECURITY_MODULES, ids=lambda path: path.name)
def test_module_imports_nothing_from_app(module: Path) -> None:
    assert imports_from_project(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import app.settings",
        "from app import main",
        "from app.checks import Problem",
        "from . import x",
    ],
)
def test_project_import_is_found(source: str) -> None:
    assert imports_from_project(source) != []


@pytest.mark.parametrize("module", SECURITY_MODULES, ids=lambda path: path.name)
def test_module_docstring_says_how_to_wire(module: Path) -> None:
    docstring = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
    assert "Defends against" in docstring
    assert "Wiring into an existing app" in docstring


@dataclass(frozen=True)
class CopyCase:
    """One module copied alone: the app that wires it, and the check of its behaviour.

    `app` is the copier's `main.py` and defines `create_app()`. `check`
    follows `CHECK_PREAMBLE` in a script, so it can use `create_app`,
    `client_for(app)` and the modules imported there; it fails by raising.
    """

    module: str
    app: str
    check: str


API_KEY = CopyCase(
    module="api_key",
    app="""
        import os

        from fastapi import APIRouter, Depends, FastAPI

        from api_key import APIKeyAuth, parse_api_keys


        def create_app() -> FastAPI:
            auth = APIKeyAuth(parse_api_keys(os.environ.get("API_KEYS", "")))
            router = APIRouter(dependencies=[Depends(auth)])

            @router.get("/me")
            def me(client_id: str = Depends(auth)) -> dict[str, str]:
                return {"client_id": client_id}

            app = FastAPI()
            app.include_router(router)
            return app
    """,
    check="""
        key = secrets.token_urlsafe(32)
        os.environ["API_KEYS"] = f"alice:{key}"
        client = client_for(create_app())

        response = client.get("/me", headers={"X-API-Key": key})
        assert response.status_code == 200, response.status_code
        assert response.json() == {"client_id": "alice"}

        response = client.get("/me", headers={"X-API-Key": key + "x"})
        assert response.status_code == 401, response.status_code
        assert response.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'

        response = client.get("/me", headers={b"X-API-Key": b"\\xff\\xfe"})
        assert response.status_code == 401, response.status_code

        # No key configured: every request fails closed with 500.
        del os.environ["API_KEYS"]
        response = client_for(create_app()).get("/me", headers={"X-API-Key": key})
        assert response.status_code == 500, response.status_code
    """,
)

ERRORS = CopyCase(
    module="errors",
    app="""
        from fastapi import FastAPI

        from errors import ErrorBoundaryMiddleware, install_error_handlers


        def create_app() -> FastAPI:
            app = FastAPI(debug=False)
            install_error_handlers(app)
            app.add_middleware(ErrorBoundaryMiddleware)

            @app.get("/boom")
            def boom() -> None:
                raise RuntimeError("password=hunter2 at /srv/app/db.py")

            @app.get("/items/{item_id}")
            def item(item_id: int) -> dict[str, int]:
                return {"id": item_id}

            return app
    """,
    check="""
        client = client_for(create_app())

        response = client.get("/boom")
        assert response.status_code == 500, response.status_code
        error_id = response.headers["x-request-id"]
        assert response.json() == {"error": "internal server error", "error_id": error_id}
        assert "hunter2" not in response.text

        response = client.get("/absent")
        assert response.status_code == 404, response.status_code
        assert response.json() == {"error": "not found", "error_id": response.headers["x-request-id"]}

        response = client.get("/items/not-a-number")
        assert response.status_code == 422, response.status_code
        assert "not-a-number" not in response.text
    """,
)

REQUEST_ID = CopyCase(
    module="request_id",
    app="""
        from fastapi import FastAPI, Request

        from request_id import add_request_id_middleware


        def create_app() -> FastAPI:
            app = FastAPI()

            @app.get("/id")
            def show(request: Request) -> dict[str, str]:
                return {"id": request.headers["x-request-id"]}

            add_request_id_middleware(app)
            return app
    """,
    check="""
        client = client_for(create_app())
        inbound = uuid.uuid4().hex

        response = client.get("/id", headers={"X-Request-ID": inbound})
        assert response.headers["x-request-id"] == inbound
        assert response.json() == {"id": inbound}

        response = client.get("/id", headers={"X-Request-ID": "forged id; admin=true"})
        replaced = response.headers["x-request-id"]
        assert re.fullmatch("[0-9a-f]{32}", replaced), replaced
        assert response.json() == {"id": replaced}
    """,
)

ACCESS_LOG = CopyCase(
    module="access_log",
    app="""
        from fastapi import Depends, FastAPI, Request

        from access_log import AccessLogMiddleware


        def identify(request: Request) -> str:
            request.state.client_id = "alice"
            return "alice"


        def create_app() -> FastAPI:
            app = FastAPI()

            @app.get("/items", dependencies=[Depends(identify)])
            def items() -> list[str]:
                return []

            app.add_middleware(AccessLogMiddleware)
            return app
    """,
    check="""
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger = logging.getLogger("app.access")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

        key = secrets.token_urlsafe(32)
        client = client_for(create_app())
        response = client.get("/items", params={"api_key": key}, headers={"X-API-Key": key})
        assert response.status_code == 200, response.status_code

        lines = [record.getMessage() for record in records]
        assert len(lines) == 1, lines
        assert lines[0].startswith("GET /items 200 "), lines[0]
        assert lines[0].endswith(" request_id= client_id=alice"), lines[0]
        assert key not in lines[0]
    """,
)

ROUTE_INVENTORY = CopyCase(
    module="route_inventory",
    app="""
        from fastapi import Depends, FastAPI, Header, HTTPException


        def auth(x_api_key: str = Header("")) -> str:
            raise HTTPException(401)


        def create_app() -> FastAPI:
            app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

            @app.get("/healthz")
            def healthz() -> dict[str, str]:
                return {"status": "ok"}

            @app.get("/me", dependencies=[Depends(auth)])
            def me() -> dict[str, str]:
                return {}

            @app.get("/orders")
            def orders() -> list[str]:
                return []

            @app.get("/debug/config", dependencies=[Depends(auth)])
            def debug_config() -> dict[str, str]:
                return {}

            return app
    """,
    check="""
        from main import auth
        from route_inventory import RouteProblem, find_route_problems

        problems = find_route_problems(create_app(), auth, public={("GET", "/healthz")})
        assert problems == [
            RouteProblem("GET", "/orders", "neither protected by the API key nor on the public list"),
            RouteProblem("GET", "/debug/config", "path looks like a debug route"),
        ], problems
    """,
)

COPY_CASES = [API_KEY, ERRORS, REQUEST_ID, ACCESS_LOG, ROUTE_INVENTORY]

# Shared by every check script: the standard library, and a test client
# that shows server errors as responses, as a deployed server would.
CHECK_PREAMBLE = """
import importlib.util
import logging
import os
import re
import secrets
import uuid

from fastapi.testclient import TestClient

from main import create_app


def client_for(app):
    return TestClient(app, raise_server_exceptions=False)


assert importlib.util.find_spec("app") is None, "the template's app package is importable"

"""


def test_every_module_has_copy_case() -> None:
    covered = {case.module for case in COPY_CASES}
    present = {module.stem for module in SECURITY_MODULES}
    assert sorted(present - covered) == []
    assert sorted(covered - present) == []


@pytest.mark.parametrize("case", COPY_CASES, ids=lambda case: case.module)
def test_copied_module_works_alone(case: CopyCase, tmp_path: Path) -> None:
    folder = tmp_path / "copier"
    folder.mkdir()
    shutil.copy(SECURITY_DIR / f"{case.module}.py", folder)
    (folder / "main.py").write_text(textwrap.dedent(case.app), encoding="utf-8")
    (folder / "check.py").write_text(CHECK_PREAMBLE + textwrap.dedent(case.check), encoding="utf-8")

    # Without PYTHONPATH, the script's own folder is the only project folder
    # on the path, so the copied module cannot reach this repository's
    # `app` package. Warnings are errors, as in the rest of the suite.
    result = subprocess.run(
        [sys.executable, "-W", "error", "check.py"],
        cwd=folder,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
