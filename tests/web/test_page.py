"""The page's routes and policy, and the API's refusal of non-http(s) addresses."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from urllib.parse import urlsplit

import openpyxl
import pytest
from fastapi.testclient import TestClient

from app.web.router import PAGE_CONTENT_SECURITY_POLICY
from tests.helpers import GENERIC_KEYS, auth
from tests.web.payloads import REJECTED_URLS

# Written out in full, so that a change to the policy shows in this diff too.
EXPECTED_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/", "text/html; charset=utf-8", b"<!doctype html>"),
        ("/static/app.js", "text/javascript; charset=utf-8", b"export function safeHttpUrl"),
        ("/static/app.css", "text/css; charset=utf-8", b":root {"),
    ],
)
def test_page_file_served_with_policy(
    client: TestClient, path: str, content_type: str, marker: bytes
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["content-security-policy"] == EXPECTED_POLICY
    assert response.headers["cache-control"] == "no-cache"
    assert marker in response.content


def test_policy_constant_matches_expected() -> None:
    assert PAGE_CONTENT_SECURITY_POLICY == EXPECTED_POLICY


def test_policy_allows_no_inline_or_eval() -> None:
    directives = dict(part.split(" ", 1) for part in EXPECTED_POLICY.split("; "))

    assert "'unsafe-inline'" not in EXPECTED_POLICY
    assert "'unsafe-eval'" not in EXPECTED_POLICY
    assert directives["script-src"] == "'self'"
    assert directives["require-trusted-types-for"] == "'script'"


def test_page_needs_no_key(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/", headers=auth("not-a-valid-key")).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/static/", "/static/index.html", "/static/../main.py", "/static/app.js.map", "/index.html"],
)
def test_other_static_paths_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert set(response.json()) == GENERIC_KEYS


@pytest.mark.parametrize("url", REJECTED_URLS)
def test_api_rejects_non_http_url(client: TestClient, url: str) -> None:
    body = {"title": "Hostile address", "summary": "", "url": url}

    response = client.post("/api/articles", json=body, headers=auth())

    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == ["body", "url"]
    assert client.get("/api/articles").json()["total"] == 0


def _csv_upload() -> tuple[str, bytes, str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["title", "summary", "url"])
    for url in REJECTED_URLS:
        writer.writerow(["Hostile address", "", url])
    return "articles.csv", buffer.getvalue().encode(), "text/csv"


def _xlsx_upload() -> tuple[str, bytes, str]:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["title", "summary", "url"])
    for url in REJECTED_URLS:
        # A spreadsheet cell cannot hold control characters other than tab,
        # line feed and carriage return; openpyxl rejects them.
        if any(ord(character) < 32 and character not in "\t\n\r" for character in url):
            continue
        sheet.append(["Hostile address", "", url])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return (
        "articles.xlsx",
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@pytest.mark.parametrize("make_upload", [_csv_upload, _xlsx_upload], ids=["csv", "xlsx"])
def test_import_stores_no_non_http_url(
    client: TestClient, make_upload: Callable[[], tuple[str, bytes, str]]
) -> None:
    upload = make_upload()

    response = client.post("/api/articles/import", files={"file": upload}, headers=auth())
    # Without the import route, the path matches GET /api/articles/{article_id}
    # and the POST gets 405.
    if response.status_code in {404, 405}:
        pytest.skip("POST /api/articles/import does not exist yet in this build")
    assert 200 <= response.status_code < 500

    stored = client.get("/api/articles", params={"limit": 100}).json()["items"]
    non_http = [
        item["url"] for item in stored if urlsplit(item["url"]).scheme not in {"http", "https"}
    ]
    assert non_http == []
    assert stored == []
