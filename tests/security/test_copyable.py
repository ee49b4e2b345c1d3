"""Each module in app/security/ works when copied alone into another app.

A copier takes one file, puts it beside their own code and wires it as its
docstring describes. These tests do exactly that: the module is copied into an
empty temporary folder, a minimal FastAPI app written here imports it as a
top-level module, and a check script runs in a separate Python process whose
path does not contain this repository, so an import of `app.` fails there.

To cover a new module, add a `CopyCase` to `COPY_CASES`: the app wired as
the module's docstring describes, and a check of its main behaviour.
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
    `companions` are other modules of app/security/ copied beside it, for a
    module whose docstring states that it needs them.
    """

    module: str
    app: str
    check: str
    companions: tuple[str, ...] = ()


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

BODY_LIMIT = CopyCase(
    module="body_limit",
    app="""
        from fastapi import FastAPI, Request

        from body_limit import add_body_limit


        def create_app() -> FastAPI:
            app = FastAPI()

            @app.post("/echo")
            async def echo(request: Request) -> dict[str, int]:
                return {"size": len(await request.body())}

            @app.post("/ignore")
            def ignore() -> dict[str, str]:
                return {}

            add_body_limit(app, max_body_size=1024)
            return app
    """,
    check="""
        client = client_for(create_app())
        large = b'{"text": "' + b"x" * 2000 + b'"}'

        response = client.post("/echo", content=b'{"text": "short"}')
        assert response.status_code == 200, response.status_code
        assert response.json() == {"size": 17}

        # Content-Length over the limit: rejected before the route runs,
        # also by a route that never reads its body.
        for path in ("/echo", "/ignore"):
            response = client.post(path, content=large)
            assert response.status_code == 413, (path, response.status_code)
            error_id = response.headers["x-request-id"]
            assert response.json() == {"error": "request body too large", "error_id": error_id}

        # A chunked body has no Content-Length: the count stops the read,
        # and FastAPI's own handler responds (errors.py would make it
        # the generic body).
        response = client.post("/echo", content=iter([large[:1000], large[1000:]]))
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.status_code
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"detail": "Content Too Large"}
    """,
)

BUDGET = CopyCase(
    module="budget",
    app="""
        from fastapi import FastAPI, HTTPException
        from limits.storage import storage_from_string

        from budget import BudgetCaps, BudgetExceededError, DailyBudget


        def create_app() -> FastAPI:
            app = FastAPI()
            storage = storage_from_string("async+memory://")
            budget = DailyBudget(storage, BudgetCaps(client_calls=5, client_tokens=200_000))
            app.state.budget = budget

            @app.post("/analyze/{client_id}")
            async def analyze(client_id: str) -> dict[str, int]:
                try:
                    reservation = await budget.reserve(client_id, tokens=1000)
                except BudgetExceededError:
                    raise HTTPException(429) from None
                await budget.settle(reservation, tokens_used=400)
                return {"tokens": 400}

            return app
    """,
    check="""
        import asyncio

        from budget import BudgetExceededError

        app = create_app()
        budget = app.state.budget

        async def reserve_in_parallel(client_id, count):
            results = await asyncio.gather(
                *(budget.reserve(client_id, tokens=1000) for _ in range(count)),
                return_exceptions=True,
            )
            granted = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, BudgetExceededError)]
            assert len(granted) + len(refused) == count, results
            return granted, refused

        granted, refused = asyncio.run(reserve_in_parallel("alice", 20))
        assert len(granted) == 5, len(granted)
        assert {error.budget for error in refused} == {"client_calls"}, refused

        # The budget is per client: bob still has his own five calls.
        client = client_for(app)
        for _ in range(5):
            response = client.post("/analyze/bob")
            assert response.status_code == 200, response.status_code
        response = client.post("/analyze/bob")
        assert response.status_code == 429, response.status_code
    """,
)

CLIENT_IP = CopyCase(
    module="client_ip",
    app="""
        import os

        from fastapi import FastAPI, Request

        from client_ip import TrustedProxies, client_ip


        def create_app() -> FastAPI:
            app = FastAPI()
            proxies = TrustedProxies.parse(os.environ.get("FORWARDED_ALLOW_IPS", ""))

            @app.get("/ip")
            def show(request: Request) -> dict[str, str]:
                return {"ip": client_ip(request.scope, proxies)}

            return app
    """,
    check="""
        os.environ["FORWARDED_ALLOW_IPS"] = "127.0.0.2"
        app = create_app()
        forged = {"X-Forwarded-For": "127.0.0.9"}

        # An untrusted peer: its X-Forwarded-For is ignored.
        response = TestClient(app, client=("127.0.0.5", 50000)).get("/ip", headers=forged)
        assert response.json() == {"ip": "127.0.0.5"}, response.json()

        # The trusted proxy: the rightmost address that is not a proxy counts,
        # not the leftmost one, which the client chose.
        proxy = TestClient(app, client=("127.0.0.2", 50000))
        response = proxy.get("/ip", headers={"X-Forwarded-For": "127.0.0.9, 127.0.0.7"})
        assert response.json() == {"ip": "127.0.0.7"}, response.json()

        # No proxies listed: the header is never read.
        os.environ["FORWARDED_ALLOW_IPS"] = ""
        response = TestClient(create_app(), client=("127.0.0.2", 50000)).get("/ip", headers=forged)
        assert response.json() == {"ip": "127.0.0.2"}, response.json()
    """,
)

CORS = CopyCase(
    module="cors",
    app="""
        import os

        from fastapi import FastAPI

        from cors import CORSAllowlistMiddleware, parse_allowed_origins


        def create_app() -> FastAPI:
            app = FastAPI()

            @app.get("/items")
            def items() -> list[str]:
                return []

            origins = parse_allowed_origins(os.environ.get("ALLOWED_ORIGINS", ""))
            app.add_middleware(CORSAllowlistMiddleware, allowed_origins=origins)
            return app
    """,
    check="""
        os.environ["ALLOWED_ORIGINS"] = "https://app.example.com"
        client = client_for(create_app())

        response = client.get("/items", headers={"Origin": "https://app.example.com"})
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"

        for lookalike in ("https://app.example.com.evil.test", "http://app.example.com"):
            response = client.get("/items", headers={"Origin": lookalike})
            assert response.status_code == 200, response.status_code
            assert "access-control-allow-origin" not in response.headers, lookalike

        preflight = {
            "Origin": "https://evil.test",
            "Access-Control-Request-Method": "GET",
        }
        response = client.options("/items", headers=preflight)
        assert response.status_code == 400, response.status_code
        assert response.json() == {"error": "bad request", "error_id": response.headers["x-request-id"]}

        # A wildcard is rejected when Starlette builds the middleware stack
        # (at start-up, or the first request), so nothing is served.
        os.environ["ALLOWED_ORIGINS"] = "*"
        response = client_for(create_app()).get("/items", headers={"Origin": "https://evil.test"})
        assert response.status_code == 500, response.status_code
        assert "access-control-allow-origin" not in response.headers
        try:
            TestClient(create_app()).get("/items")
        except ValueError as error:
            assert "allow_all_origins" in str(error), error
        else:
            raise AssertionError("a wildcard origin was accepted")

        # An entry that could never match is rejected too.
        os.environ["ALLOWED_ORIGINS"] = "https://app.example.com/"
        try:
            create_app()
        except ValueError as error:
            assert "trailing slash" in str(error), error
        else:
            raise AssertionError("an origin with a path was accepted")
    """,
)

HEADERS = CopyCase(
    module="headers",
    companions=("errors",),
    app="""
        from fastapi import FastAPI, HTTPException

        from errors import ErrorBoundaryMiddleware, install_error_handlers
        from headers import SecurityHeadersMiddleware


        def create_app() -> FastAPI:
            app = FastAPI()
            install_error_handlers(app)
            app.add_middleware(ErrorBoundaryMiddleware)

            @app.get("/boom")
            def boom() -> None:
                raise RuntimeError("unhandled")

            @app.get("/denied")
            def denied() -> None:
                raise HTTPException(403)

            app.add_middleware(SecurityHeadersMiddleware, hsts=True)
            return app
    """,
    check="""
        from headers import DEFAULT_HEADERS, HSTS_VALUE

        client = client_for(create_app())
        expected = {name.lower(): value for name, value in DEFAULT_HEADERS}
        expected["strict-transport-security"] = HSTS_VALUE

        for path, status in (("/absent", 404), ("/denied", 403), ("/boom", 500)):
            response = client.get(path)
            assert response.status_code == status, (path, response.status_code)
            for name, value in expected.items():
                assert response.headers.get(name) == value, (path, name)
            assert "cache-control" not in response.headers, path

        # A request with an API key, even a rejected one, is never cached.
        response = client.get("/denied", headers={"X-API-Key": "wrong"})
        assert response.headers["cache-control"] == "no-store"
    """,
)

RATE_LIMIT = CopyCase(
    module="rate_limit",
    companions=("client_ip", "api_key"),
    app="""
        import os

        from fastapi import APIRouter, Depends, FastAPI

        from api_key import APIKeyAuth, parse_api_keys
        from client_ip import TrustedProxies, client_ip
        from rate_limit import CostLimiter, limit_failed_auth, per_client_limit


        def create_app() -> FastAPI:
            app = FastAPI()
            auth = APIKeyAuth(parse_api_keys(os.environ.get("API_KEYS", "")))
            proxies = TrustedProxies.parse(os.environ.get("FORWARDED_ALLOW_IPS", ""))
            app.state.cost_limiter = CostLimiter(
                "memory://",
                auth_failure_limit="3/minute",
                client_address=lambda request: client_ip(request.scope, proxies),
            )
            router = APIRouter(dependencies=[Depends(limit_failed_auth), Depends(auth)])

            @router.post("/analyze", dependencies=[Depends(per_client_limit("analyze", "2/minute"))])
            async def analyze() -> dict[str, str]:
                return {"status": "done"}

            app.include_router(router)
            return app
    """,
    check="""
        alice, bob = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        os.environ["API_KEYS"] = f"alice:{alice},bob:{bob}"
        client = client_for(create_app())

        for _ in range(2):
            response = client.post("/analyze", headers={"X-API-Key": alice})
            assert response.status_code == 200, response.status_code
        response = client.post("/analyze", headers={"X-API-Key": alice})
        assert response.status_code == 429, response.status_code
        assert 1 <= int(response.headers["retry-after"]) <= 60, response.headers
        assert response.headers["x-ratelimit-remaining"] == "0"

        # The limit counts per client: bob is not held back by alice.
        response = client.post("/analyze", headers={"X-API-Key": bob})
        assert response.status_code == 200, response.status_code

        # Invalid keys: three 401s, then 429 from the same address even
        # with a new key each time.
        statuses = [
            client.post("/analyze", headers={"X-API-Key": secrets.token_urlsafe(32)}).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429], statuses
    """,
)

STRICT_JSON = CopyCase(
    module="strict_json",
    app="""
        from fastapi import APIRouter, FastAPI

        from strict_json import StrictJSONRoute


        def create_app() -> FastAPI:
            router = APIRouter(route_class=StrictJSONRoute)

            @router.post("/users")
            def create_user(user: dict[str, str]) -> dict[str, str]:
                return user

            app = FastAPI()
            app.include_router(router)
            return app
    """,
    check="""
        client = client_for(create_app())
        headers = {"Content-Type": "application/json"}

        response = client.post("/users", content=b'{"role": "user"}', headers=headers)
        assert response.status_code == 200, response.status_code
        assert response.json() == {"role": "user"}

        duplicate = b'{"role": "user", "role": "admin"}'
        response = client.post("/users", content=duplicate, headers=headers)
        assert response.status_code == 400, response.status_code
        assert "admin" not in response.text

        response = client.post("/users", content=b'{"score": NaN}', headers=headers)
        assert response.status_code == 400, response.status_code

        response = client.post("/users", content=b'{"role": ', headers=headers)
        assert response.status_code == 422, response.status_code
    """,
)

TEMP_FILES = CopyCase(
    module="temp_files",
    app="""
        import os
        from pathlib import Path

        from fastapi import FastAPI, HTTPException, Request

        from temp_files import private_folder, remove_leftover_files, temporary_file


        def create_app() -> FastAPI:
            app = FastAPI()
            folder = private_folder(Path(os.environ["UPLOAD_DIR"]))
            remove_leftover_files(folder)
            app.state.upload_folder = folder

            @app.post("/upload")
            async def upload(request: Request) -> dict[str, int]:
                with temporary_file(folder) as (path, file):
                    async for chunk in request.stream():
                        file.write(chunk)
                    file.flush()
                    if path.read_bytes().startswith(b"bad"):
                        raise HTTPException(422)
                    if path.read_bytes().startswith(b"crash"):
                        raise RuntimeError("processing failed")
                    return {"size": path.stat().st_size}

            return app
    """,
    check="""
        import stat
        from pathlib import Path

        from temp_files import remove_leftover_files

        os.environ["UPLOAD_DIR"] = str(Path.cwd() / "uploads")
        app = create_app()
        folder = app.state.upload_folder
        client = client_for(app)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700

        response = client.post("/upload", content=b"good data")
        assert response.status_code == 200, response.status_code
        assert response.json() == {"size": 9}
        assert list(folder.iterdir()) == []

        for body, status in ((b"bad data", 422), (b"crash", 500)):
            response = client.post("/upload", content=body)
            assert response.status_code == status, (body, response.status_code)
            assert list(folder.iterdir()) == [], body

        # A file left by a process that no longer runs is removed at start.
        leftover = folder / "upload-999999999-abc"
        leftover.write_bytes(b"old upload")
        assert remove_leftover_files(folder) == 1
        assert not leftover.exists()
    """,
)

TRUSTED_HOSTS = CopyCase(
    module="trusted_hosts",
    app="""
        from fastapi import FastAPI

        from trusted_hosts import TrustedHostsMiddleware


        def create_app() -> FastAPI:
            app = FastAPI()

            @app.get("/items")
            def items() -> list[str]:
                return []

            app.add_middleware(TrustedHostsMiddleware, allowed_hosts=["api.example.com"])
            return app
    """,
    check="""
        client = client_for(create_app())

        response = client.get("/items", headers={"Host": "api.example.com:8443"})
        assert response.status_code == 200, response.status_code

        for host in ("evil.test", "api.example.com.evil.test", "api.example.com@evil.test"):
            response = client.get("/items", headers={"Host": host})
            assert response.status_code == 400, (host, response.status_code)
            error_id = response.headers["x-request-id"]
            assert response.json() == {"error": "bad request", "error_id": error_id}
            assert "location" not in response.headers, host
    """,
)

COPY_CASES = [
    API_KEY,
    ERRORS,
    REQUEST_ID,
    ACCESS_LOG,
    ROUTE_INVENTORY,
    BODY_LIMIT,
    BUDGET,
    CLIENT_IP,
    CORS,
    HEADERS,
    RATE_LIMIT,
    STRICT_JSON,
    TEMP_FILES,
    TRUSTED_HOSTS,
]

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
    for module in (case.module, *case.companions):
        shutil.copy(SECURITY_DIR / f"{module}.py", folder)
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
