"""The line cache of history scans gives the same findings as a scan without it."""

from __future__ import annotations

from app.secrets_scan.engine import LineCache, detect_secrets_configured, scan_text
from tests.secrets_scan.keys import google_key


def test_cache_keeps_findings_and_line_numbers() -> None:
    key = google_key()
    cache: LineCache = {}
    first = f'KEY = "{key}"\n'
    later = f'"""Settings."""\nDEBUG = False\nKEY = "{key}"\n'

    with detect_secrets_configured():
        assert [f.line for f in scan_text("settings.py", first, cache)] == [1]
        assert scan_text("settings.py", later, cache) == scan_text("settings.py", later)
        assert [f.line for f in scan_text("settings.py", later, cache)] == [3]


def test_cache_honours_nextline_marker() -> None:
    key = google_key()
    cache: LineCache = {}
    plain = f'KEY = "{key}"\n'
    marked = f'# pragma: allowlist nextline secret\nKEY = "{key}"\n'

    with detect_secrets_configured():
        assert len(scan_text("settings.py", plain, cache)) == 1
        assert scan_text("settings.py", marked, cache) == []
        assert len(scan_text("settings.py", plain, cache)) == 1
