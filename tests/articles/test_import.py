"""POST /api/articles/import: every case leaves the upload folder empty."""

from __future__ import annotations

import logging
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.articles.importer import ArticleWriter, get_article_writer
from app.articles.schemas import ArticleIn
from app.checks import UnsafeConfigurationError
from app.main import create_app
from app.security.temp_files import FILE_PREFIX
from tests.articles.spreadsheets import (
    csv_bytes,
    raw_entries,
    raw_zip,
    replace_part,
    xlsx_bytes,
    zip_bomb,
)
from tests.conftest import ClientFactory, SettingsFactory
from tests.helpers import BOB_KEY, PRODUCTION_SETTINGS, auth

IMPORT = "/api/articles/import"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


# Most tests here send more imports than the default per-client quota.
HIGH_IMPORT_LIMIT = {"import_rate_limit": "10000/minute"}


@pytest.fixture
def client(make_client: ClientFactory, upload_dir: Path) -> TestClient:
    return make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir)


def _upload(client: TestClient, content: bytes, filename: str = "articles.xlsx") -> httpx2.Response:
    return client.post(IMPORT, files={"file": (filename, content, XLSX_TYPE)}, headers=auth())


def _titles(client: TestClient) -> list[str]:
    items = client.get("/api/articles", params={"limit": 100}).json()["items"]
    return sorted(item["title"] for item in items)


def _assert_generic(response: httpx2.Response, status: int, error: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body == {"error": error, "error_id": response.headers["x-request-id"]}


def _assert_empty(folder: Path) -> None:
    assert sorted(path.name for path in folder.iterdir()) == []


def test_import_xlsx_adds_rows(client: TestClient, upload_dir: Path) -> None:
    content = xlsx_bytes(
        ("First", "one", "https://example.com/1"),
        ("Second", None, "http://example.com/2"),
    )

    response = _upload(client, content)

    assert response.status_code == 200
    assert response.json() == {"imported": 2, "rejected": []}
    assert _titles(client) == ["First", "Second"]
    _assert_empty(upload_dir)


def test_import_csv_adds_rows(client: TestClient, upload_dir: Path) -> None:
    content = csv_bytes(("Café", "ünïcode", "https://example.com/c"), ("B", "", "https://e.org"))

    response = _upload(client, content, "articles.csv")

    assert response.status_code == 200
    assert response.json() == {"imported": 2, "rejected": []}
    assert _titles(client) == ["B", "Café"]
    _assert_empty(upload_dir)


def test_client_filename_never_names_the_file(
    client: TestClient, upload_dir: Path, tmp_path: Path
) -> None:
    content = csv_bytes(("Traversal", "", "https://example.com/t"))

    response = _upload(client, content, "../../escaped.csv")

    assert response.status_code == 200
    assert response.json() == {"imported": 1, "rejected": []}
    assert not (tmp_path / "escaped.csv").exists()
    assert not (upload_dir.parent.parent / "escaped.csv").exists()
    _assert_empty(upload_dir)


def test_text_named_xlsx_is_415(client: TestClient, upload_dir: Path) -> None:
    content = csv_bytes(("Looks like CSV", "", "https://example.com/x"))

    _assert_generic(_upload(client, content, "articles.xlsx"), 415, "unsupported media type")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def test_binary_named_csv_is_415(client: TestClient, upload_dir: Path) -> None:
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

    _assert_generic(_upload(client, content, "articles.csv"), 415, "unsupported media type")
    _assert_empty(upload_dir)


def test_zip_without_workbook_is_415(client: TestClient, upload_dir: Path) -> None:
    content = zip_bomb(0).replace(b"xl/workbook.xml", b"xl/notebook.xml")

    _assert_generic(_upload(client, content), 415, "unsupported media type")
    _assert_empty(upload_dir)


def test_workbook_with_broken_sheet_is_415(client: TestClient, upload_dir: Path) -> None:
    valid = xlsx_bytes(("A", "", "https://example.com/a"))
    content = replace_part(valid, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row>")

    _assert_generic(_upload(client, content), 415, "unsupported media type")
    _assert_empty(upload_dir)


def test_xml_entity_expansion_is_415(client: TestClient, upload_dir: Path) -> None:
    # Ten copies of an entity in one cell: a billion-laughs file nests more.
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    valid = xlsx_bytes(("A", "", "https://example.com/a"))
    content = replace_part(valid, "xl/worksheets/sheet1.xml", laughs)

    _assert_generic(_upload(client, content), 415, "unsupported media type")
    _assert_empty(upload_dir)


SHEET = "xl/worksheets/sheet1.xml"
# The general-purpose flag bit that marks an entry as encrypted.
ENCRYPTED = 0x1
# WinZip's AES method, which zipfile cannot decompress.
AES_METHOD = 99
# zipfile's LZMA header (version, size of the properties), valid properties,
# then bytes that are not an LZMA stream.
CORRUPT_LZMA = b"\x09\x04\x05\x00" + b"\x5d\x00\x00\x01\x00" + b"\xff" * 40


def _hostile_workbook(name: str, **changes: Any) -> bytes:
    """Build a valid workbook, then change the header fields or stored bytes of entry `name`."""
    entries = raw_entries(xlsx_bytes(("A", "", "https://example.com/a")))
    changed = [replace(entry, **changes) if entry.name == name else entry for entry in entries]
    return raw_zip(*changed)


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


def _sheet_data() -> bytes:
    entries = raw_entries(xlsx_bytes(("A", "", "https://example.com/a")))
    return next(entry.data for entry in entries if entry.name == SHEET)


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        pytest.param(SHEET, {"flags": ENCRYPTED}, id="encrypted-sheet"),
        pytest.param("[Content_Types].xml", {"flags": ENCRYPTED}, id="encrypted-content-types"),
        pytest.param("xl/workbook.xml", {"flags": ENCRYPTED}, id="encrypted-workbook"),
        pytest.param(SHEET, {"method": AES_METHOD}, id="unknown-method"),
        pytest.param(
            SHEET, {"method": zipfile.ZIP_LZMA, "stored": CORRUPT_LZMA}, id="corrupt-lzma"
        ),
        pytest.param(
            SHEET, {"method": zipfile.ZIP_DEFLATED, "stored": b"\xff" * 64}, id="corrupt-deflate"
        ),
        pytest.param(
            SHEET,
            {"method": zipfile.ZIP_DEFLATED, "stored": _deflated(_sheet_data())[:40]},
            id="truncated-deflate",
        ),
    ],
)
def test_undecompressable_workbook_is_415(
    client: TestClient, upload_dir: Path, name: str, changes: dict[str, Any]
) -> None:
    content = _hostile_workbook(name, **changes)

    _assert_generic(_upload(client, content), 415, "unsupported media type")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def _sheet_with_empty_cells(prefix: str, empty_cells: int) -> bytes:
    """A sheet of a header, one article, and a row of `empty_cells` empty cells."""
    tag = f"{prefix}:" if prefix else ""
    namespace = f"xmlns{':' + prefix if prefix else ''}"

    def text(ref: str, value: str) -> str:
        return (
            f'<{tag}c r="{ref}" t="inlineStr"><{tag}is><{tag}t>{value}</{tag}t></{tag}is></{tag}c>'
        )

    empty = f'<{tag}c r="A3"/>' * empty_cells
    return (
        f'<{tag}worksheet {namespace}="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<{tag}sheetData>"
        f'<{tag}row r="1">{text("A1", "title")}{text("B1", "url")}</{tag}row>'
        f'<{tag}row r="2">{text("A2", "A")}{text("B2", "https://example.com/a")}</{tag}row>'
        f'<{tag}row r="3">{empty}</{tag}row>'
        f"</{tag}sheetData></{tag}worksheet>"
    ).encode()


@pytest.mark.parametrize("prefix", ["", "x"])
def test_row_of_many_empty_cells_is_422(
    make_client: ClientFactory, upload_dir: Path, prefix: str
) -> None:
    # With 2 rows allowed, the bound is (1 + 2 + 1000 blank) rows * 17 columns
    # = 17,051 cells. The 422 shows that openpyxl, which would build every
    # cell of the row in memory, never read the sheet.
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, import_max_rows=2)
    sheet = _sheet_with_empty_cells(prefix, 20_000)
    content = _hostile_workbook(
        SHEET, data=sheet, stored=_deflated(sheet), method=zipfile.ZIP_DEFLATED
    )

    _assert_generic(_upload(client, content), 422, "invalid request")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def test_row_of_empty_cells_under_bound_imports(
    make_client: ClientFactory, upload_dir: Path
) -> None:
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, import_max_rows=2)
    sheet = _sheet_with_empty_cells("x", 16_000)
    content = _hostile_workbook(
        SHEET, data=sheet, stored=_deflated(sheet), method=zipfile.ZIP_DEFLATED
    )

    response = _upload(client, content)

    assert response.status_code == 200
    assert response.json() == {"imported": 1, "rejected": []}
    _assert_empty(upload_dir)


def test_rows_rejected_by_number_and_field(client: TestClient, upload_dir: Path) -> None:
    script_url = "javascript:alert(document.cookie)"
    long_title = "T" * 201
    content = xlsx_bytes(
        ("Kept", "", "https://example.com/kept"),
        ("Script", "", script_url),
        (long_title, "", "https://example.com/long"),
        ("Data URL", "", "data:text/html,<script>alert(1)</script>"),
    )

    response = _upload(client, content)

    assert response.status_code == 200
    assert response.json() == {
        "imported": 1,
        "rejected": [
            {"row": 3, "field": "url", "message": "URL scheme should be 'http' or 'https'"},
            {"row": 4, "field": "title", "message": "String should have at most 200 characters"},
            {"row": 5, "field": "url", "message": "URL scheme should be 'http' or 'https'"},
        ],
    }
    assert "javascript" not in response.text
    assert long_title not in response.text
    assert _titles(client) == ["Kept"]
    _assert_empty(upload_dir)


def test_missing_title_and_cell_over_bound(client: TestClient, upload_dir: Path) -> None:
    content = csv_bytes(("", "", "https://example.com/a"), ("Big", "S" * 5000, "https://e.org"))

    response = _upload(client, content, "articles.csv")

    assert response.status_code == 200
    assert response.json() == {
        "imported": 0,
        "rejected": [
            {"row": 2, "field": "title", "message": "String should have at least 1 character"},
            {"row": 3, "field": "summary", "message": "longer than 3083 characters"},
        ],
    }
    _assert_empty(upload_dir)


def test_formula_is_not_evaluated(client: TestClient, upload_dir: Path) -> None:
    # openpyxl saves a formula without a cached value, so the cell reads empty.
    content = xlsx_bytes(("=1+1", "", "https://example.com/f"))

    response = _upload(client, content)

    assert response.status_code == 200
    assert response.json() == {
        "imported": 0,
        "rejected": [{"row": 2, "field": "title", "message": "Field required"}],
    }
    _assert_empty(upload_dir)


def test_csv_field_over_parser_limit_is_422(client: TestClient, upload_dir: Path) -> None:
    # Python's csv module refuses a field over 128 KiB (131,072 characters).
    content = csv_bytes(("Huge", "S" * 131_073, "https://example.com/h"))

    _assert_generic(_upload(client, content, "articles.csv"), 422, "invalid request")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def test_processing_that_raises_is_500(
    client: TestClient, upload_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    written: list[int] = []

    def failing_writer() -> ArticleWriter:
        def write(articles: Iterable[ArticleIn]) -> int:
            written.append(len(list(articles)))
            raise RuntimeError("storage failed part-way")

        return write

    client.app.dependency_overrides[get_article_writer] = failing_writer  # type: ignore[attr-defined]
    content = xlsx_bytes(("A", "", "https://example.com/a"))

    with caplog.at_level(logging.ERROR):
        response = _upload(client, content)

    _assert_generic(response, 500, "internal server error")
    assert written == [1]
    assert "storage failed part-way" not in response.text
    error_id = response.json()["error_id"]
    assert f"unhandled exception: error_id={error_id} method=POST path={IMPORT}" in caplog.messages
    _assert_empty(upload_dir)


def test_zip_bomb_is_422(client: TestClient, upload_dir: Path) -> None:
    # 60 MiB of zeros compress to about 60 KiB, over the 50 MiB default bound.
    content = zip_bomb(60 * 1024 * 1024)
    assert len(content) < 200 * 1024

    _assert_generic(_upload(client, content), 422, "invalid request")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def test_bound_crossed_after_batches_stores_nothing(
    make_client: ClientFactory, upload_dir: Path
) -> None:
    # More valid rows than one insert batch before the bound is crossed: the
    # batches already sent must be rolled back with the rest.
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, import_max_rows=1200)
    rows = [(f"T{i}", "", f"https://example.com/{i}") for i in range(1300)]

    response = client.post(
        IMPORT, files={"file": ("a.csv", csv_bytes(*rows), "text/csv")}, headers=auth()
    )
    _assert_generic(response, 422, "invalid request")
    assert client.get("/api/articles").json()["total"] == 0
    _assert_empty(upload_dir)


def test_large_import_is_written_in_batches(make_client: ClientFactory, upload_dir: Path) -> None:
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, import_max_rows=5000)
    rows = [(f"T{i}", "", f"https://example.com/{i}") for i in range(1234)]

    response = client.post(
        IMPORT, files={"file": ("a.csv", csv_bytes(*rows), "text/csv")}, headers=auth()
    )
    assert response.status_code == 200
    assert response.json() == {"imported": 1234, "rejected": []}
    assert client.get("/api/articles").json()["total"] == 1234
    _assert_empty(upload_dir)


def test_rows_over_bound_is_422(make_client: ClientFactory, upload_dir: Path) -> None:
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, import_max_rows=2)
    rows = [(f"T{i}", "", f"https://example.com/{i}") for i in range(3)]

    _assert_generic(_upload(client, xlsx_bytes(*rows)), 422, "invalid request")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def test_columns_over_bound_is_422(client: TestClient, upload_dir: Path) -> None:
    wide = ("A", "", "https://example.com/a", *([""] * 13), "far right")

    _assert_generic(_upload(client, xlsx_bytes(wide)), 422, "invalid request")
    _assert_empty(upload_dir)


def test_unknown_header_is_422(client: TestClient, upload_dir: Path) -> None:
    content = csv_bytes(("A", "https://example.com/a"), header=("name", "url"))

    _assert_generic(_upload(client, content, "a.csv"), 422, "invalid request")
    _assert_empty(upload_dir)


def test_missing_file_field_is_422(client: TestClient, upload_dir: Path) -> None:
    response = client.post(
        IMPORT, data={"other": "value"}, files={"x": ("a.csv", b"")}, headers=auth()
    )

    _assert_generic(response, 422, "invalid request")
    _assert_empty(upload_dir)


def test_body_that_is_not_multipart_is_415(client: TestClient, upload_dir: Path) -> None:
    response = client.post(IMPORT, json={"title": "A"}, headers=auth())

    _assert_generic(response, 415, "unsupported media type")
    _assert_empty(upload_dir)


def _multipart(boundary: str, closing: bool) -> bytes:
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode() + csv_bytes(("Cut", "", "https://example.com/cut"))
    return body + (f"\r\n--{boundary}--\r\n".encode() if closing else b"")


def test_boundary_over_parser_limit_is_400(client: TestClient, upload_dir: Path) -> None:
    # python-multipart refuses a boundary longer than 256 bytes.
    boundary = "b" * 257
    headers = {**auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"}

    response = client.post(IMPORT, content=_multipart(boundary, closing=True), headers=headers)

    _assert_generic(response, 400, "bad request")
    _assert_empty(upload_dir)


def test_body_without_closing_boundary_is_400(client: TestClient, upload_dir: Path) -> None:
    boundary = "b0undary"
    headers = {**auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"}

    response = client.post(IMPORT, content=_multipart(boundary, closing=False), headers=headers)

    _assert_generic(response, 400, "bad request")
    assert _titles(client) == []
    _assert_empty(upload_dir)


def test_import_without_key_is_401(client: TestClient, upload_dir: Path) -> None:
    response = client.post(IMPORT, files={"file": ("a.csv", csv_bytes())})

    _assert_generic(response, 401, "missing or invalid API key")
    _assert_empty(upload_dir)


def test_import_over_upload_limit_is_413(make_client: ClientFactory, upload_dir: Path) -> None:
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, max_upload_bytes=64 * 1024)
    content = csv_bytes(*[("T", "S" * 1000, "https://example.com/a")] * 80)

    _assert_generic(_upload(client, content, "a.csv"), 413, "request body too large")
    _assert_empty(upload_dir)


def test_chunked_import_over_upload_limit_is_413(
    make_client: ClientFactory, upload_dir: Path
) -> None:
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, max_upload_bytes=64 * 1024)
    boundary = "b0undary"

    def body() -> Iterator[bytes]:
        yield (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
            "title,summary,url\r\n"
        ).encode()
        for _ in range(100):
            yield b"T," + b"S" * 1000 + b",https://example.com/a\r\n"
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**auth(), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = client.post(IMPORT, content=body(), headers=headers)

    assert "content-length" not in response.request.headers
    _assert_generic(response, 413, "request body too large")
    _assert_empty(upload_dir)


def test_import_may_exceed_general_body_limit(make_client: ClientFactory, upload_dir: Path) -> None:
    client = make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir, max_body_bytes=1024)
    content = csv_bytes(*[(f"T{i}", "S" * 100, "https://example.com/a") for i in range(20)])
    assert len(content) > 1024

    response = _upload(client, content, "a.csv")

    assert response.status_code == 200
    assert response.json() == {"imported": 20, "rejected": []}
    _assert_empty(upload_dir)


def test_fifty_concurrent_imports(client: TestClient, upload_dir: Path) -> None:
    valid = xlsx_bytes(("Valid", "", "https://example.com/v"))
    mixed = csv_bytes(("Mixed", "", "https://example.com/m"), ("Bad", "", "javascript:x"))
    not_a_sheet = b"PK\x03\x04 not really a zip"
    uploads = [(valid, "a.xlsx"), (mixed, "a.csv"), (not_a_sheet, "a.xlsx")] * 16 + [
        (valid, "a.xlsx"),
        (valid, "a.xlsx"),
    ]

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda upload: _upload(client, *upload), uploads))

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 34
    assert statuses.count(415) == 16
    total = client.get("/api/articles").json()["total"]
    assert total == 34
    _assert_empty(upload_dir)


def test_import_is_rate_limited_per_client(make_client: ClientFactory, upload_dir: Path) -> None:
    client = make_client(upload_tmp_dir=upload_dir, import_rate_limit="2/minute")
    valid = csv_bytes(("Valid", "", "https://example.com/v"))

    statuses = [_upload(client, valid, "a.csv").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = _upload(client, valid, "a.csv")
    assert refused.json()["error"] == "too many requests"
    assert int(refused.headers["retry-after"]) > 0

    other = client.post(IMPORT, files={"file": ("a.csv", valid, "text/csv")}, headers=auth(BOB_KEY))
    assert other.status_code == 200
    assert client.get("/api/articles").json()["total"] == 3
    _assert_empty(upload_dir)


def test_upload_folder_is_private(client: TestClient, upload_dir: Path) -> None:
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700
    _assert_empty(upload_dir)


def test_start_removes_leftover_files(
    make_client: ClientFactory, upload_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upload_dir.mkdir(mode=0o700)
    # No process has this id: pid_max on Linux is at most 2**22.
    leftover = upload_dir / f"{FILE_PREFIX}{2**23}-abc123"
    leftover.write_bytes(b"user data from a killed process")

    with caplog.at_level(logging.INFO, logger="app.main"):
        make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir)

    assert "upload folder ready: removed 1 leftover file(s)" in caplog.messages
    _assert_empty(upload_dir)


def test_start_refuses_folder_open_to_others(make_client: ClientFactory, upload_dir: Path) -> None:
    upload_dir.mkdir()
    os.chmod(upload_dir, 0o755)  # noqa: S103  # the unsafe mode this test refuses

    with pytest.raises(PermissionError, match="open to other users"):
        make_client(**HIGH_IMPORT_LIMIT, upload_tmp_dir=upload_dir)


@pytest.mark.parametrize("folder", ["/tmp", "/var/tmp/"])  # noqa: S108  # the folders refused
def test_production_refuses_shared_temp_folder(make_settings: SettingsFactory, folder: str) -> None:
    settings = make_settings(**PRODUCTION_SETTINGS, upload_tmp_dir=folder)

    with pytest.raises(UnsafeConfigurationError) as refused:
        create_app(settings)

    assert [problem.subject for problem in refused.value.problems] == ["UPLOAD_TMP_DIR"]
