"""Hostile request bodies get a 4xx with the generic body, never a 500."""

from __future__ import annotations

import resource

import pytest
from fastapi.testclient import TestClient

from tests.helpers import GENERIC_KEYS, auth

JSON = "application/json"


def _multipart(parts: int) -> bytes:
    fields = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i for i in range(parts)
    )
    return fields + b"--B--\r\n"


HOSTILE_BODIES = {
    "nested-arrays": (JSON, b"[" * 100_000 + b"]" * 100_000),
    "nested-objects": (JSON, b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    "huge-integer": (
        JSON,
        b'{"title": "t", "url": "https://e.com", "summary": ' + b"9" * 100_000 + b"}",
    ),
    "huge-exponent": (JSON, b'{"title": 1e999999, "url": "https://e.com"}'),
    "invalid-utf8": (JSON, b'{"title": "\xff\xfe", "url": "https://e.com"}'),
    "lone-surrogate": (JSON, b'{"title": "\\ud800", "url": "https://e.com"}'),
    "truncated": (JSON, b'{"title": "t", "url": '),
    "not-json-declared-json": (JSON, b"title=t&url=https://e.com"),
    "json-declared-text": ("text/plain", b'{"title": "t", "url": "https://e.com"}'),
    "json-declared-form": ("application/x-www-form-urlencoded", b'{"title": "t"}'),
    "json-declared-xml": ("application/xml", b"<title>t</title>"),
    "thousands-of-parts": ("multipart/form-data; boundary=B", _multipart(5000)),
    "malformed-multipart": ("multipart/form-data; boundary=B", b"--B\r\ngarbage"),
    "multipart-without-boundary": ("multipart/form-data", b"--B--\r\n"),
    "empty": (JSON, b""),
    "null": (JSON, b"null"),
    "array": (JSON, b"[]"),
}


@pytest.mark.parametrize("case", list(HOSTILE_BODIES))
def test_hostile_body_gets_generic_4xx(client: TestClient, case: str) -> None:
    content_type, body = HOSTILE_BODIES[case]
    response = client.post(
        "/api/articles", content=body, headers={**auth(), "Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    assert {"error", "error_id"} <= set(response.json())
    assert set(response.json()) <= {*GENERIC_KEYS, "fields"}
    assert client.get("/api/articles").json()["total"] == 0


def test_hostile_bodies_keep_memory_bounded(client: TestClient) -> None:
    # ru_maxrss is the peak resident size in KiB on Linux. Each body above is
    # under 1 MiB; parsing all of them ten times must not grow the peak by
    # more than a generous 200 MiB (a parser that expanded input without
    # bounds would grow by gigabytes).
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(10):
        for content_type, body in HOSTILE_BODIES.values():
            client.post(
                "/api/articles", content=body, headers={**auth(), "Content-Type": content_type}
            )
    growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert growth_mib < 200
    print(
        f"\nRELIABILITY hostile-bodies-memory cases={len(HOSTILE_BODIES)} "
        f"requests={10 * len(HOSTILE_BODIES)} peak_growth_mib={growth_mib:.1f}"
    )
