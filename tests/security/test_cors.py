"""CORS: the allowlist from ALLOWED_ORIGINS, lookalike origins, and the wildcard rules."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.cors import CORSMiddleware

from app.checks import UnsafeConfigurationError
from app.main import create_app
from app.security.cors import CORSAllowlistMiddleware
from app.settings import SettingsError, load_settings
from tests.conftest import ClientFactory, SettingsFactory
from tests.helpers import PRODUCTION_SETTINGS, auth

ALLOWED = ["https://app.example.com", "http://localhost:5173"]

LOOKALIKES = [
    "http://app.example.com",  # another scheme
    "https://app.example.com:8443",  # another port
    "https://app.example.com.evil.test",  # a suffix
    "https://evilapp.example.com",  # a prefix
    "null",  # sandboxed iframes, file:// pages
    "https://APP.EXAMPLE.COM",  # letter case: browsers send lower case
    "https://app.example.com/",  # a trailing slash
]


def preflight(client: TestClient, origin: str, method: str = "POST") -> dict[str, str]:
    response = client.options(
        "/api/articles",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "x-api-key, content-type",
        },
    )
    return {"status": str(response.status_code), **response.headers}


# --- parsing ALLOWED_ORIGINS -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" https://app.example.com , http://localhost:5173,", ALLOWED),
        ('["https://app.example.com", "http://localhost:5173"]', ALLOWED),
        ("", []),
        ("  ", []),
        (",", []),
        (
            "https://App.Example.COM:443,http://[::1]:80",
            ["https://app.example.com", "http://[::1]"],
        ),
        ("https://app.example.com,https://app.example.com", ["https://app.example.com"]),
    ],
    ids=["comma", "json", "empty", "blank", "only-comma", "normalized", "repeated"],
)
def test_allowed_origins_parse(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", value)
    assert load_settings(env_file=None).allowed_origins == expected


def test_allowed_origins_unset_is_empty() -> None:
    assert load_settings(env_file=None).allowed_origins == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("https://app.example.com/", "entry 1 'https://app.example.com/' has a path"),
        ("https://ok.example.com,https://app.example.com/api", "entry 2"),
        ("app.example.com", "entry 1 'app.example.com' has no scheme"),
        ("https://app.example.com?x=1", "has a path, query or fragment"),
        ("https://app.example.com#top", "has a path, query or fragment"),
        ("https://user@app.example.com", "contains user info"),
        ("https://*.example.com", "contains a wildcard"),
        ("null", "Origin: null"),
        ("https://bücher.example", "write the host in its xn-- form"),
        ("https://app.example.com:99999", "is not a valid origin"),
        ("*,https://app.example.com", "'*' must be the only entry"),
        ('["https://app.example.com"', "not a valid JSON list"),
    ],
)
def test_allowed_origins_bad_entry_rejected(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("ALLOWED_ORIGINS", value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    message = str(caught.value)
    assert "ALLOWED_ORIGINS" in message
    assert reason in message


# --- the wildcard in each environment ---------------------------------------------


def test_wildcard_accepted_in_development(make_settings: SettingsFactory) -> None:
    settings = make_settings(app_env="development", allowed_origins="*")
    assert settings.allowed_origins == ["*"]
    assert settings.allow_all_origins


def test_wildcard_with_credentials_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("ALLOWED_ORIGINS", "*")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "true")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    assert caught.value.messages == [
        "CORS_ALLOW_CREDENTIALS: true cannot be combined with ALLOWED_ORIGINS='*', which would "
        "let any site send credentialed requests; list the origins in ALLOWED_ORIGINS instead"
    ]


def test_wildcard_rejected_in_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("ALLOWED_ORIGINS", "*")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)

    assert caught.value.messages == [
        "ALLOWED_ORIGINS: '*' is accepted only with APP_ENV=development; list the origins"
    ]


def test_wildcard_refused_in_production(make_settings: SettingsFactory) -> None:
    settings = make_settings(**{**PRODUCTION_SETTINGS, "allowed_origins": "*"})
    with pytest.raises(UnsafeConfigurationError) as caught:
        create_app(settings)

    message = str(caught.value)
    assert "ALLOWED_ORIGINS" in message
    assert "'*' lets every web site call this API" in message


def test_plain_http_origin_warns_in_production(make_settings: SettingsFactory) -> None:
    from app.checks import check_cors

    settings = make_settings(**{**PRODUCTION_SETTINGS, "allowed_origins": "http://app.example.com"})
    (problem,) = check_cors(settings)
    assert problem.severity == "warning"
    assert problem.subject == "ALLOWED_ORIGINS"
    assert "http://app.example.com uses plain http" in problem.message


def test_wildcard_middleware_needs_opt_in() -> None:
    with pytest.raises(ValueError, match="needs allow_all_origins=True"):
        CORSAllowlistMiddleware(FastAPI(), ["*"])
    with pytest.raises(ValueError, match="cannot be combined with allow_credentials"):
        CORSAllowlistMiddleware(FastAPI(), ["*"], allow_all_origins=True, allow_credentials=True)


# --- requests ----------------------------------------------------------------------


@pytest.fixture(params=["production", "development"])
def cors_client(request: pytest.FixtureRequest, make_client: ClientFactory) -> TestClient:
    if request.param == "production":
        return make_client(**{**PRODUCTION_SETTINGS, "allowed_origins": ",".join(ALLOWED)})
    return make_client(app_env="development", allowed_origins=",".join(ALLOWED))


@pytest.mark.parametrize("origin", ALLOWED)
def test_preflight_allowed_origin_passes(cors_client: TestClient, origin: str) -> None:
    headers = preflight(cors_client, origin)

    assert headers["status"] == "200"
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-allow-methods"] == "GET, POST"
    assert headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-API-Key"
    )
    assert "access-control-allow-credentials" not in headers


@pytest.mark.parametrize("origin", ALLOWED)
def test_simple_request_allowed_origin_passes(cors_client: TestClient, origin: str) -> None:
    response = cors_client.get("/api/me", headers={**auth(), "Origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize("origin", LOOKALIKES)
def test_preflight_lookalike_gets_no_allow_origin(cors_client: TestClient, origin: str) -> None:
    response = cors_client.options(
        "/api/articles",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "bad request", "error_id": response.headers["x-request-id"]}
    assert "access-control-allow-origin" not in response.headers
    assert len(response.headers.get_list("x-request-id")) == 1


@pytest.mark.parametrize("origin", LOOKALIKES)
def test_simple_request_lookalike_gets_no_allow_origin(
    cors_client: TestClient, origin: str
) -> None:
    response = cors_client.get("/api/me", headers={**auth(), "Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_preflight_other_method_rejected(cors_client: TestClient, method: str) -> None:
    headers = preflight(cors_client, ALLOWED[0], method)
    assert headers["status"] == "400"


def test_preflight_other_header_rejected(cors_client: TestClient) -> None:
    response = cors_client.options(
        "/api/articles",
        headers={
            "Origin": ALLOWED[0],
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 400


def test_empty_allowlist_allows_no_origin(make_client: ClientFactory) -> None:
    client = make_client(**PRODUCTION_SETTINGS)
    for origin in [*ALLOWED, *LOOKALIKES]:
        assert "access-control-allow-origin" not in preflight(client, origin)
        response = client.get("/healthz", headers={"Origin": origin})
        assert "access-control-allow-origin" not in response.headers


def test_credentials_sent_only_when_enabled(make_client: ClientFactory) -> None:
    client = make_client(
        **{**PRODUCTION_SETTINGS, "allowed_origins": ALLOWED[0], "cors_allow_credentials": True}
    )
    allowed = preflight(client, ALLOWED[0])
    assert allowed["access-control-allow-origin"] == ALLOWED[0]
    assert allowed["access-control-allow-credentials"] == "true"

    rejected = client.get("/healthz", headers={"Origin": LOOKALIKES[2]})
    assert "access-control-allow-origin" not in rejected.headers


def test_wildcard_never_sends_credentials(make_client: ClientFactory) -> None:
    client = make_client(app_env="development", allowed_origins="*")
    for origin in [*ALLOWED, LOOKALIKES[2]]:
        headers = preflight(client, origin)
        assert headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in headers

        response = client.get("/healthz", headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


def test_500_carries_allow_origin(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(**{**PRODUCTION_SETTINGS, "allowed_origins": ALLOWED[0]}))

    @app.get("/api/fail")
    def fail() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/fail", headers={"Origin": ALLOWED[0]})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == ALLOWED[0]


# --- the faulty pattern ----------------------------------------------------------------


def _faulty_app() -> FastAPI:
    """The audited fault: a wildcard allowlist with every method and header."""
    app = FastAPI()
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
    )
    app.get("/api/data")(lambda: {"secret": "data"})
    return app


def _fixed_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CORSAllowlistMiddleware, allowed_origins=ALLOWED)
    app.get("/api/data")(lambda: {"secret": "data"})
    return app


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="wildcard")),
    ],
)
def test_foreign_site_cannot_read_responses(build: object) -> None:
    with TestClient(build()) as client:  # type: ignore[operator]
        response = client.get("/api/data", headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in response.headers
