"""Reading an uploaded `.xlsx` or `.csv` of articles, with bounds on every dimension.

The file type is decided by the content: an `.xlsx` is a ZIP archive that
contains the workbook parts, a CSV is UTF-8 text. A name that says one type for
content of the other is refused too.

A small `.xlsx` can expand to gigabytes (a ZIP bomb). Before openpyxl opens
it, the sizes the archive declares are added up and refused over a bound;
Python's zipfile never inflates an entry beyond its declared size, so the
declaration cannot lie. The cell elements in the archive are counted next,
streaming, because openpyxl builds every cell of a row before its column
bound drops the extras: one row of millions of empty cells would cost
gigabytes. openpyxl then reads in read-only mode, one row at a time, and the
number of rows, the columns and the length of each cell are bounded too.
"""

from __future__ import annotations

import codecs
import csv
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree

from openpyxl import load_workbook

from app.articles.models import SUMMARY_MAX_LENGTH, TITLE_MAX_LENGTH, URL_MAX_LENGTH

SpreadsheetKind = Literal["xlsx", "csv"]

COLUMNS = ("title", "summary", "url")
REQUIRED_COLUMNS = frozenset({"title", "url"})
# Columns read from each row; a value further right refuses the file.
MAX_COLUMNS = 16
# Longer than any valid field, so ArticleIn still words the usual length
# error; a longer cell is rejected without being validated or copied.
MAX_CELL_CHARS = max(TITLE_MAX_LENGTH, SUMMARY_MAX_LENGTH, URL_MAX_LENGTH) + 1000
# Blank rows allowed besides the data rows (they are skipped).
MAX_BLANK_ROWS = 1000
# Entries in the archive; a real workbook of one sheet has about a dozen.
MAX_ZIP_ENTRIES = 1000

# Exceptions that zipfile raises for an archive it cannot decompress: an
# entry flagged encrypted (RuntimeError), a compression method it lacks
# (NotImplementedError), or a corrupt or truncated stream.
_BROKEN_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    EOFError,
    RuntimeError,
    NotImplementedError,
    OSError,
)
# The above, and what openpyxl raises for missing or malformed parts.
# defusedxml's errors subclass ValueError.
_BROKEN_WORKBOOK_ERRORS = (
    *_BROKEN_ZIP_ERRORS,
    ElementTree.ParseError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
)
# The start of a cell element, `<c ` or `<c/>`, under any namespace prefix
# (`<x:c `). It may match in a part that is not a sheet, or in a comment;
# that only counts a few cells too many.
_CELL_START = re.compile(rb"<(?:[^\s<>/:!?]+:)?c[\s/>]")
# Bytes kept from one chunk to the next, so a cell start split across them
# is counted once. A prefix longer than this may hide one cell a chunk.
_CELL_START_CARRY = 64
_ZIP_MAGIC = b"PK\x03\x04"
_XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_EXTENSIONS: dict[str, SpreadsheetKind] = {".xlsx": "xlsx", ".csv": "csv"}
_READ_CHUNK = 64 * 1024


class NotASpreadsheetError(Exception):
    """The content is neither an `.xlsx` workbook nor UTF-8 CSV text (HTTP 415)."""


class SpreadsheetTooLargeError(Exception):
    """The spreadsheet exceeds a bound: rows, columns, cells or expanded size (HTTP 422)."""


class BadHeaderError(Exception):
    """The first row is not a header of known column names with title and url (422)."""


@dataclass(frozen=True)
class Row:
    """One data row: its number in the sheet (the header is row 1) and its cells by column."""

    number: int
    cells: dict[str, str]
    too_long: tuple[str, ...] = ()


def detect_kind(path: Path, filename: str | None) -> SpreadsheetKind:
    """Return the type of the file at `path` from its content, checked against `filename`."""
    with path.open("rb") as file:
        start = file.read(len(_ZIP_MAGIC))
    kind: SpreadsheetKind = "xlsx" if start == _ZIP_MAGIC else "csv"
    if kind == "xlsx" and not _has_workbook_parts(path):
        raise NotASpreadsheetError("ZIP archive without the workbook parts")
    if kind == "csv" and not _is_utf8_text(path):
        raise NotASpreadsheetError("neither a ZIP archive nor UTF-8 text")

    suffix = Path(filename).suffix.lower() if filename else ""
    if suffix and _EXTENSIONS.get(suffix) != kind:
        raise NotASpreadsheetError(f"content is {kind} but the file name has another extension")
    return kind


def read_rows(
    path: Path, kind: SpreadsheetKind, *, max_rows: int, max_expanded_bytes: int
) -> Iterator[Row]:
    """Yield the data rows of the file; raise before yielding a row past `max_rows`."""
    if kind == "xlsx":
        # As many cells as the rows allowed (header, data and blank rows)
        # times the columns read. A sheet with more, such as empty styled
        # cells far to the right of the data, is refused.
        max_cells = (1 + max_rows + MAX_BLANK_ROWS) * (MAX_COLUMNS + 1)
        raw_rows = _xlsx_rows(path, max_expanded_bytes, max_cells)
    else:
        raw_rows = _csv_rows(path)

    header: tuple[str, ...] | None = None
    data_rows = 0
    for number, values in enumerate(raw_rows, start=1):
        # openpyxl yields an empty row for each row number a sheet skips, so
        # blank rows are bounded as well as rows with data.
        if number > 1 + max_rows + MAX_BLANK_ROWS:
            raise SpreadsheetTooLargeError(f"more than {max_rows + MAX_BLANK_ROWS} rows")
        if len(values) > MAX_COLUMNS and any(_has_value(v) for v in values[MAX_COLUMNS:]):
            raise SpreadsheetTooLargeError(f"row {number} has more than {MAX_COLUMNS} columns")
        if header is None:
            header = _parse_header(values)
            continue
        if not any(_has_value(value) for value in values):
            continue
        data_rows += 1
        if data_rows > max_rows:
            raise SpreadsheetTooLargeError(f"more than {max_rows} data rows")
        yield _make_row(number, header, values)

    if header is None:
        raise BadHeaderError("the file is empty")


def _has_workbook_parts(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except _BROKEN_ZIP_ERRORS:
        return False
    return all(part in names for part in _XLSX_PARTS)


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        while chunk := file.read(_READ_CHUNK):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _check_expanded_size(path: Path, max_expanded_bytes: int) -> None:
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SpreadsheetTooLargeError(f"more than {MAX_ZIP_ENTRIES} archive entries")
    expanded = sum(entry.file_size for entry in entries)
    if expanded > max_expanded_bytes:
        raise SpreadsheetTooLargeError(f"expands to {expanded} bytes")


def _check_cell_count(path: Path, max_cells: int) -> None:
    """Count the cell elements in every part, streaming; refuse past `max_cells`.

    Every part is read, not only those named like sheets: the workbook's
    relationships may point its sheet at any part name.
    """
    cells = 0
    with zipfile.ZipFile(path) as archive:
        for entry in archive.infolist():
            with archive.open(entry) as part:
                carried = b""
                while chunk := part.read(_READ_CHUNK):
                    data = carried + chunk
                    # A match that starts in the carried tail is counted on
                    # the next pass, with the bytes that complete it.
                    cutoff = max(len(data) - _CELL_START_CARRY, 0)
                    cells += sum(1 for m in _CELL_START.finditer(data) if m.start() < cutoff)
                    carried = data[cutoff:]
                    if cells > max_cells:
                        raise SpreadsheetTooLargeError(f"more than {max_cells} cells")
                cells += sum(1 for _ in _CELL_START.finditer(carried))
    if cells > max_cells:
        raise SpreadsheetTooLargeError(f"more than {max_cells} cells")


def _xlsx_rows(path: Path, max_expanded_bytes: int, max_cells: int) -> Iterator[tuple[object, ...]]:
    _check_expanded_size(path, max_expanded_bytes)
    try:
        _check_cell_count(path, max_cells)
    except _BROKEN_ZIP_ERRORS as exc:
        raise NotASpreadsheetError("archive cannot be decompressed") from exc
    # A file object, not the path: openpyxl refuses a path without an
    # .xlsx suffix, and the upload file's name never has one.
    with path.open("rb") as file:
        try:
            workbook = load_workbook(file, read_only=True, data_only=True, keep_links=False)
        except _BROKEN_WORKBOOK_ERRORS as exc:
            raise NotASpreadsheetError("workbook cannot be opened") from exc
        try:
            sheet = workbook.worksheets[0]
            # max_col drops the cells past the bound from each row, after
            # openpyxl has parsed them all (so _check_cell_count runs first).
            # One more column than allowed is read to notice a value there.
            yield from sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        except _BROKEN_WORKBOOK_ERRORS as exc:
            raise NotASpreadsheetError("workbook cannot be read") from exc
        finally:
            workbook.close()


def _csv_rows(path: Path) -> Iterator[tuple[object, ...]]:
    # utf-8-sig drops the byte order mark that spreadsheet programs write.
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        try:
            for values in reader:
                yield tuple(values)
        except csv.Error as exc:
            # The reader is not strict and the text has no NUL (detect_kind),
            # so the only error left is a field over csv.field_size_limit()
            # (128 KiB). The file is valid CSV over a bound, hence 422.
            raise SpreadsheetTooLargeError("a CSV field is over the parser's limit") from exc


def _has_value(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def _parse_header(values: tuple[object, ...]) -> tuple[str, ...]:
    names = tuple(str(value).strip().lower() if _has_value(value) else "" for value in values)
    present = {name for name in names if name}
    if not present >= REQUIRED_COLUMNS or not present <= set(COLUMNS):
        raise BadHeaderError("header must name title and url, and optionally summary")
    if len(present) != len([name for name in names if name]):
        raise BadHeaderError("a column name appears twice")
    return names


def _make_row(number: int, header: tuple[str, ...], values: tuple[object, ...]) -> Row:
    cells: dict[str, str] = {}
    too_long: list[str] = []
    for name, value in zip(header, values, strict=False):
        if not name or value is None:
            continue
        text = str(value)
        if len(text) > MAX_CELL_CHARS:
            too_long.append(name)
            continue
        cells[name] = text
    return Row(number=number, cells=cells, too_long=tuple(too_long))
