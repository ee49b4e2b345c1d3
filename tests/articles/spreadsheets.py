"""Spreadsheet files for the import tests, built in memory."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

HEADER = ("title", "summary", "url")


def xlsx_bytes(*rows: tuple[str | int | None, ...], header: tuple[str, ...] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(*rows: tuple[str, ...], header: tuple[str, ...] = HEADER) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def zip_bomb(expanded_bytes: int) -> bytes:
    """A valid workbook with one extra part of zeros that expands to `expanded_bytes`."""
    source = io.BytesIO(xlsx_bytes(("Bomb", "", "https://example.com/bomb")))
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(source) as workbook,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for entry in workbook.infolist():
            bomb.writestr(entry, workbook.read(entry))
        with bomb.open("xl/media/padding.bin", "w") as padding:
            chunk = bytes(1024 * 1024)
            for _ in range(expanded_bytes // len(chunk)):
                padding.write(chunk)
    return buffer.getvalue()


def replace_part(content: bytes, name: str, data: bytes) -> bytes:
    """Return the archive `content` with the part `name` replaced by `data`."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        if name not in source.namelist():
            raise KeyError(f"the archive has no part {name!r}")
        for entry in source.infolist():
            target.writestr(entry, data if entry.filename == name else source.read(entry))
    return buffer.getvalue()
