"""`POST /api/articles/import`: articles from an uploaded `.xlsx` or `.csv` file.

The multipart body is parsed as it streams in, and the `file` field is
written to a temporary file in the private upload folder. The upload is never
held in memory as a whole. The client's file name is used only for its
extension. The temporary file is deleted when the request ends, on every path
(see app/security/temp_files.py).

The route reads the body itself instead of declaring an `UploadFile`
parameter: FastAPI reads form bodies before running dependencies, so the
API key would be checked only after the whole upload had been spooled to the
system's shared temp folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import insert
from starlette.requests import ClientDisconnect

from app.articles.models import Article
from app.articles.schemas import ArticleIn
from app.articles.spreadsheet import (
    MAX_CELL_CHARS,
    BadHeaderError,
    NotASpreadsheetError,
    Row,
    SpreadsheetTooLargeError,
    detect_kind,
    read_rows,
)
from app.deps import ClientId, DatabaseDep, SettingsDep, cost_limit
from app.security.temp_files import temporary_file
from app.settings import Settings

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = b"file"

logger = logging.getLogger(__name__)

import_router = APIRouter(prefix="/api/articles", tags=["articles"])

# Stores the valid rows it is given, in one transaction, and returns how many.
ArticleWriter = Callable[[Iterable[ArticleIn]], int]

# Rows sent to the database at a time. The rows are streamed from the file
# and inserted in batches, so memory does not grow with the file's length.
WRITE_BATCH_ROWS = 500


class RejectedRow(BaseModel):
    """A row that was not imported: its number in the sheet, the field, and why."""

    row: int
    field: str
    message: str


class ImportResult(BaseModel):
    imported: int
    rejected: list[RejectedRow]


async def get_article_writer(database: DatabaseDep) -> ArticleWriter:
    """Return the function that stores the valid rows, in one transaction.

    If reading the file fails part-way (a bound is crossed), the exception
    leaves the session without a commit, so no row of the file is stored.
    """

    def write(articles: Iterable[ArticleIn]) -> int:
        written = 0
        with database.session() as session:
            batch: list[dict[str, str]] = []
            for article in articles:
                batch.append(
                    {"title": article.title, "summary": article.summary, "url": str(article.url)}
                )
                if len(batch) == WRITE_BATCH_ROWS:
                    session.execute(insert(Article), batch)
                    written += len(batch)
                    batch = []
            if batch:
                session.execute(insert(Article), batch)
                written += len(batch)
            session.commit()
        return written

    return write


ArticleWriterDep = Annotated[ArticleWriter, Depends(get_article_writer)]


@import_router.post(
    "/import",
    # Importing costs CPU and storage, so each client has a quota of its own
    # (IMPORT_RATE_LIMIT), shared by all workers through the limit storage.
    dependencies=[cost_limit("import", "import_rate_limit")],
    # The body is read by hand (see the module docstring), so its schema is
    # declared here for the OpenAPI document.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
    responses={
        413: {"description": "The body is larger than MAX_UPLOAD_BYTES."},
        415: {"description": "The file is not an .xlsx workbook or UTF-8 CSV."},
        400: {"description": "A malformed or unfinished multipart body."},
        422: {"description": "No `file` field, a bad header row, or a file over a bound."},
    },
)
async def import_articles(
    request: Request, settings: SettingsDep, client_id: ClientId, write: ArticleWriterDep
) -> ImportResult:
    """Import articles from a spreadsheet. Needs an API key in `X-API-Key`.

    Send a multipart form with the file in the field `file`: an `.xlsx`
    workbook (first sheet) or a UTF-8 `.csv`. The first row names the
    columns `title`, `url` and optionally `summary`; each later row is one
    article, validated like the body of `POST /api/articles`. Valid rows are
    stored. Each invalid row is listed in `rejected` with its row number
    (the header is row 1) and field, never with the cell's content.
    """
    with temporary_file(settings.upload_tmp_dir) as (path, file):
        filename = await _receive_file_field(request, file, client_id)
        file.flush()
        result = await run_in_threadpool(_import_file, path, filename, settings, write, client_id)
    logger.info(
        "articles imported: client_id=%s imported=%d rejected=%d",
        client_id,
        result.imported,
        len(result.rejected),
    )
    return result


async def _receive_file_field(request: Request, destination: BinaryIO, client_id: str) -> str:
    """Stream the multipart body, writing the `file` field to `destination`; return its name."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        logger.info(
            "import rejected: client_id=%s reason=body is not multipart/form-data", client_id
        )
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)

    part = _FilePart(destination)
    try:
        # The parser refuses a boundary over 256 bytes as it is built.
        parser = MultipartParser(boundary, part.callbacks())
        async for chunk in request.stream():
            # A chunk is what the server read from the socket at once, so
            # writing it to a local file is short enough for the event loop.
            parser.write(chunk)
        # finalize() does not check that the body ended (python-multipart
        # 0.0.34); the `on_end` callback, called at the closing boundary,
        # is the check.
        parser.finalize()
    except FormParserError as exc:
        logger.info(
            "import rejected: client_id=%s reason=invalid multipart body (%s)",
            client_id,
            type(exc).__name__,
        )
        raise HTTPException(status.HTTP_400_BAD_REQUEST) from None
    except ClientDisconnect:
        # No one is left to read a reply; the temporary file is deleted as
        # this exception leaves the `with` block.
        logger.info("import abandoned: client_id=%s reason=client disconnected", client_id)
        raise HTTPException(status.HTTP_400_BAD_REQUEST) from None

    if not part.complete:
        logger.info(
            "import rejected: client_id=%s reason=body ended before the closing boundary",
            client_id,
        )
        raise HTTPException(status.HTTP_400_BAD_REQUEST)
    if part.filename is None:
        logger.info("import rejected: client_id=%s reason=missing file field", client_id)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT)
    return part.filename


class _FilePart:
    """Callbacks for MultipartParser that copy the first `file` part's data out."""

    def __init__(self, destination: BinaryIO) -> None:
        self.destination = destination
        self.filename: str | None = None
        self._header_name = b""
        self._header_value = b""
        self._part_name: bytes | None = None
        self._part_filename: bytes | None = None
        self._writing = False
        # Set by the closing boundary: a body cut short never sets it.
        self.complete = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._part_name = None
        self._part_filename = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            _, options = parse_options_header(self._header_value)
            self._part_name = options.get(b"name")
            self._part_filename = options.get(b"filename")
        self._header_name = b""
        self._header_value = b""

    def _on_headers_finished(self) -> None:
        # Only the first `file` part is kept; later ones are read and dropped.
        self._writing = self._part_name == FILE_FIELD and self.filename is None
        if self._writing:
            self.filename = (self._part_filename or b"").decode("utf-8", "replace")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._writing:
            self.destination.write(data[start:end])

    def _on_part_end(self) -> None:
        self._writing = False

    def _on_end(self) -> None:
        self.complete = True


def _import_file(
    path: Path, filename: str, settings: Settings, write: ArticleWriter, client_id: str
) -> ImportResult:
    try:
        kind = detect_kind(path, filename)
        rows = read_rows(
            path,
            kind,
            max_rows=settings.import_max_rows,
            max_expanded_bytes=settings.import_max_expanded_bytes,
        )
        rejected: list[RejectedRow] = []
        imported = write(_valid_articles(rows, rejected))
    except NotASpreadsheetError as exc:
        logger.info("import rejected: client_id=%s reason=not a spreadsheet (%s)", client_id, exc)
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE) from None
    except (SpreadsheetTooLargeError, BadHeaderError) as exc:
        logger.info("import rejected: client_id=%s reason=invalid spreadsheet (%s)", client_id, exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT) from None

    return ImportResult(imported=imported, rejected=rejected)


def _valid_articles(rows: Iterable[Row], rejected: list[RejectedRow]) -> Iterator[ArticleIn]:
    """Yield each valid row as an article, and add each invalid row's errors to `rejected`."""
    for row in rows:
        if row.too_long:
            rejected.extend(
                RejectedRow(
                    row=row.number, field=name, message=f"longer than {MAX_CELL_CHARS} characters"
                )
                for name in row.too_long
            )
            continue
        try:
            article = ArticleIn.model_validate(row.cells)
        except ValidationError as exc:
            # Location and message only: `input` and `ctx` would copy the
            # cell's content into the response.
            for error in exc.errors(include_input=False, include_url=False, include_context=False):
                field = str(error["loc"][0]) if error["loc"] else "row"
                rejected.append(RejectedRow(row=row.number, field=field, message=error["msg"]))
            continue
        yield article
