"""`python -m app audit`: the sample service's eight faults are reported, and nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import audit
from app.audit import AuditFinding

REPOSITORY = Path(__file__).resolve().parent.parent
SAMPLE = REPOSITORY / "tests" / "audit_sample"

# A commit id built at run time, so no hex literal looks like a key to a scanner.
COMMIT = "01234567" * 5

DOCS_PAGES = {
    "auth-fails-open.md",
    "secret-in-git-history.md",
    "debug-endpoint.md",
    "error-details.md",
    "xss-innerhtml.md",
    "unlimited-paid-route.md",
    "cors-wildcard.md",
    "temp-files.md",
}

# Each fault in tests/audit_sample, as (file, line, rule).
SAMPLE_FINDINGS = [
    ("service.py", 11, "secret-in-source"),
    ("service.py", 15, "cors-wildcard"),
    ("service.py", 19, "auth-fails-open"),
    ("service.py", 23, "debug-endpoint"),
    ("service.py", 33, "error-details"),
    ("service.py", 40, "unlimited-paid-route"),
    ("service.py", 50, "temp-files"),
    ("static/app.js", 8, "xss-innerhtml"),
]

needs_semgrep = pytest.mark.skipif(
    audit.find_semgrep() is None,
    reason="Semgrep is not installed; `make semgrep` creates .venv-semgrep",
)


def run_audit(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "audit", str(path)],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_report() -> subprocess.CompletedProcess[str]:
    # One Semgrep run takes several seconds, so the tests share it.
    if audit.find_semgrep() is None:
        pytest.skip("Semgrep is not installed; `make semgrep` creates .venv-semgrep")
    return run_audit(SAMPLE)


def test_sample_exits_1(sample_report: subprocess.CompletedProcess[str]) -> None:
    assert sample_report.returncode == 1
    assert sample_report.stderr == ""


def test_sample_reports_every_fault(sample_report: subprocess.CompletedProcess[str]) -> None:
    found = []
    for line in sample_report.stdout.splitlines():
        if "[" not in line:
            continue
        where, _, rest = line.partition(": ")
        path, _, number = where.rpartition(":")
        rule = rest.partition("[")[2].partition("]")[0]
        found.append((path, int(number), rule))
    assert found == SAMPLE_FINDINGS


def test_sample_lines_name_fault_and_page(sample_report: subprocess.CompletedProcess[str]) -> None:
    lines = sample_report.stdout.splitlines()
    assert lines[0] == (
        "service.py:11: A key left in git history [secret-in-source] "
        "see docs/secret-in-git-history.md"
    )
    assert lines[-1].startswith("8 finding(s) of 8 fault(s); the docs pages are in ")


def test_every_docs_link_is_a_fault_page() -> None:
    linked = set()
    for rule_file in (REPOSITORY / "rules").glob("*.yaml"):
        for line in rule_file.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("docs: docs/"):
                linked.add(line.split("docs/", 1)[1])
    assert linked == DOCS_PAGES


@needs_semgrep
def test_clean_project_exits_0(tmp_path: Path) -> None:
    (tmp_path / "service.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        '@app.get("/healthz")\ndef healthz() -> dict[str, str]:\n    return {"status": "ok"}\n',
        encoding="utf-8",
    )
    result = run_audit(tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "No findings."


@needs_semgrep
def test_sample_copy_outside_repository(tmp_path: Path) -> None:
    # A project that is not inside this repository, and not a git checkout.
    target = tmp_path / "project"
    shutil.copytree(SAMPLE, target)
    result = run_audit(target)
    assert result.returncode == 1
    assert "static/app.js:8: Cross-site scripting through innerHTML" in result.stdout


def test_missing_folder_exits_2(tmp_path: Path) -> None:
    result = run_audit(tmp_path / "absent")
    assert result.returncode == 2
    assert result.stderr.strip().endswith("is not a folder; give the root of the project to scan")


def test_missing_semgrep_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMGREP", str(tmp_path / "no-semgrep"))
    assert audit.command_audit(str(tmp_path)) == 2


def test_missing_history_scan_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.report([], history_skipped="not available in this copy of the template") == 0
    assert capsys.readouterr().out.splitlines() == [
        "history secret scan: not available in this copy of the template, "
        "so git history was not checked for keys",
        "No findings.",
    ]


@dataclass(frozen=True)
class HistoryFinding:
    """The fields the audit reads from a finding of `app.secrets_scan.scan_history`."""

    path: str
    line: int
    detector: str
    commit: str


def fake_secrets_scan(findings: list[HistoryFinding]) -> types.ModuleType:
    """Stand in for the history scan package, which ships separately from the audit."""
    module = types.ModuleType("app.secrets_scan")

    def scan_history(path: Path) -> list[HistoryFinding]:
        return findings

    module.scan_history = scan_history  # type: ignore[attr-defined]  # built at run time
    return module


def test_history_findings_join_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = HistoryFinding("config.py", 3, "Anthropic API Key", COMMIT)
    monkeypatch.setitem(sys.modules, "app.secrets_scan", fake_secrets_scan([found]))

    history = audit.scan_history(tmp_path)

    assert history.skipped is None
    assert [str(finding) for finding in history.findings] == [
        "config.py:3 (commit 012345670123): A key left in git history "
        "[history: Anthropic API Key] see docs/secret-in-git-history.md"
    ]


def test_history_skipped_outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "app.secrets_scan", fake_secrets_scan([]))

    history = audit.scan_history(tmp_path)

    assert history.findings == []
    assert history.skipped == f"skipped, because {tmp_path} is not in a git work tree"


def test_history_finding_names_commit() -> None:
    finding = AuditFinding(
        path="config.py",
        line=3,
        fault=audit.HISTORY_FAULT,
        rule="history: Anthropic API Key",
        docs=audit.HISTORY_DOCS,
        commit=COMMIT,
    )
    assert str(finding) == (
        "config.py:3 (commit 012345670123): A key left in git history "
        "[history: Anthropic API Key] see docs/secret-in-git-history.md"
    )
