"""Spreadsheet files for the import tests, built in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

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


@dataclass(frozen=True)
class RawEntry:
    """One archive entry written byte for byte: `stored` is the data as it sits in the file."""

    name: str
    data: bytes
    stored: bytes
    method: int = zipfile.ZIP_STORED
    flags: int = 0


def raw_zip(*entries: RawEntry) -> bytes:
    """An archive with headers as given, including flags and methods zipfile would not write."""
    body = bytearray()
    directory = bytearray()
    for entry in entries:
        name = entry.name.encode()
        fields = (entry.flags, entry.method, 0, 0, zlib.crc32(entry.data))
        sizes = (len(entry.stored), len(entry.data), len(name), 0)
        offset = len(body)
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, *fields, *sizes) + name
        body += entry.stored
        directory += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, *fields, *sizes, 0, 0, 0, 0, offset
        )
        directory += name
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0
    )
    return bytes(body + directory + end)


def raw_entries(content: bytes) -> list[RawEntry]:
    """The parts of the archive `content` as stored (uncompressed) entries."""
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        return [
            RawEntry(name, data, data)
            for name in source.namelist()
            for data in (source.read(name),)
        ]
