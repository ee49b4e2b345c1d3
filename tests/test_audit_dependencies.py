"""The dependency audit never reads a skipped audit as a pass, nor fails the build for it."""

from __future__ import annotations

from scripts.audit_dependencies import FAILED, PASSED, VULNERABLE, summarize, summarize_failure

NOT_FOUND = "Dependency not found on PyPI and could not be audited"


def test_audit_fails_on_vulnerability() -> None:
    report = {
        "dependencies": [
            {"name": "fastapi", "version": "1.0", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.0",
                "vulns": [{"id": "GHSA-0000-0000-0000", "fix_versions": ["3.1.3"]}],
            },
        ]
    }
    result = summarize(report)
    assert result.status == VULNERABLE
    assert result.lines == [
        "1 known vulnerability(ies):",
        "jinja2 3.1.0: GHSA-0000-0000-0000 (fixed in 3.1.3)",
    ]


def test_audit_passes_clean_report() -> None:
    report = {"dependencies": [{"name": "fastapi", "version": "1.0", "vulns": []}]}
    result = summarize(report)
    assert result.status == PASSED
    assert result.lines == ["No known vulnerabilities in 1 audited package(s)."]


def test_audit_skips_when_nothing_audited() -> None:
    report = {
        "dependencies": [
            {"name": "fastapi", "skip_reason": NOT_FOUND},
            {"name": "uvicorn", "skip_reason": NOT_FOUND},
        ]
    }
    result = summarize(report)
    assert result.status == PASSED
    assert len(result.lines) == 1
    assert result.lines[0].startswith("SKIPPED: ")
    assert "NOT audited" in result.lines[0]


def test_audit_names_partly_skipped_packages() -> None:
    report = {
        "dependencies": [
            {"name": "fastapi", "version": "1.0", "vulns": []},
            {"name": "private-package", "skip_reason": NOT_FOUND},
        ]
    }
    result = summarize(report)
    assert result.status == PASSED
    assert result.lines[1] == "WARNING: 1 package(s) were not audited: private-package"


def test_audit_skips_when_service_unreachable() -> None:
    stderr = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev')"
    result = summarize_failure(stderr)
    assert result.status == PASSED
    assert result.lines[0].startswith("SKIPPED: the vulnerability service could not be reached")


def test_audit_fails_on_other_error() -> None:
    result = summarize_failure("ERROR: requirements/app.txt: hash mismatch\n")
    assert result.status == FAILED
    assert result.lines == ["pip-audit failed: ERROR: requirements/app.txt: hash mismatch"]
