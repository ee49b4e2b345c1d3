"""`python -m app audit PATH`: look for the eight faults in another project's folder.

Two scans make one report. Semgrep runs the rules in `rules/` over the
folder's source (offline: local rules only, metrics off), and the history
secret scan looks for keys in every commit of the folder's git history.
Each finding is printed as `file:line: fault [rule] see docs/page.md`, and
the exit status is 1 when there is a finding.

Semgrep is found in this order: the `SEMGREP` variable, the template's own
`.venv-semgrep` (which `make` creates), then `semgrep` on `PATH`.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = TEMPLATE_ROOT / "rules"
DOCS_DIR = TEMPLATE_ROOT / "docs"
SEMGREP_IN_TEMPLATE = TEMPLATE_ROOT / ".venv-semgrep" / "bin" / "semgrep"

# Seconds allowed for one Semgrep run. A large monorepo may need a higher value.
SEMGREP_TIMEOUT = float(os.environ.get("SEMGREP_TIMEOUT", "600"))
# --metrics=off, and rules from a local folder only, so Semgrep sends no data out.
SEMGREP_OPTIONS = ("--metrics=off", "--disable-version-check", "--json", "--quiet")

HISTORY_FAULT = "A key left in git history"
HISTORY_DOCS = "docs/secret-in-git-history.md"

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class AuditError(Exception):
    """A scan could not run. The message names the scan and what to do next."""


@dataclass(frozen=True, order=True)
class AuditFinding:
    """One fault found: where, which fault, and the docs page that explains the fix."""

    path: str
    line: int
    fault: str
    rule: str
    docs: str
    commit: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.commit is not None:
            where = f"{where} (commit {self.commit[:12]})"
        return f"{where}: {self.fault} [{self.rule}] see {self.docs}"


def find_semgrep() -> str | None:
    """Return the Semgrep executable to run, or None when there is none."""
    configured = os.environ.get("SEMGREP")
    if configured:
        return configured if Path(configured).is_file() else None
    if SEMGREP_IN_TEMPLATE.is_file():
        return str(SEMGREP_IN_TEMPLATE)
    return shutil.which("semgrep")


def run_rules(target: Path, semgrep: str) -> list[AuditFinding]:
    """Run the rules over `target` and return their findings.

    `--project-root` makes Semgrep read the target's own `.semgrepignore`
    and `.gitignore`, relative to the target.
    """
    command = [
        semgrep,
        "scan",
        *SEMGREP_OPTIONS,
        "--config",
        str(RULES_DIR),
        "--project-root",
        str(target),
        str(target),
    ]
    try:
        completed = subprocess.run(  # noqa: S603  # a fixed command; the target is a path argument
            command,
            capture_output=True,
            text=True,
            timeout=SEMGREP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuditError(
            f"Semgrep did not finish within {SEMGREP_TIMEOUT:.0f} s; "
            "set SEMGREP_TIMEOUT (seconds) to allow longer"
        ) from None

    try:
        output = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise AuditError(
            f"Semgrep failed with exit status {completed.returncode} and no report: "
            f"{completed.stderr.strip()[-500:]}"
        ) from None

    errors = [error for error in output.get("errors", []) if error.get("level") == "error"]
    if errors:
        messages = "; ".join(str(error.get("message", error)).strip() for error in errors)
        raise AuditError(f"Semgrep reported errors: {messages[:1000]}")

    return _parse_results(output.get("results", []), target)


def _parse_results(results: Iterable[dict[str, Any]], target: Path) -> list[AuditFinding]:
    findings = set()
    for result in results:
        metadata = result.get("extra", {}).get("metadata", {})
        # Semgrep prefixes a rule id with the folder of its config file.
        rule = str(result["check_id"]).rsplit(".", 1)[-1]
        findings.add(
            AuditFinding(
                path=_relative(Path(result["path"]), target),
                line=int(result["start"]["line"]),
                fault=str(metadata.get("fault", rule)),
                rule=rule,
                docs=str(metadata.get("docs", "")),
            )
        )
    return _one_per_fault_and_line(findings)


def _one_per_fault_and_line(findings: Iterable[AuditFinding]) -> list[AuditFinding]:
    # Several rules can describe one fault at one place (an open check that
    # also compares with `!=`); the report names the fault there once.
    kept: dict[tuple[str, int, str], AuditFinding] = {}
    for finding in sorted(findings):
        kept.setdefault((finding.path, finding.line, finding.fault), finding)
    return list(kept.values())


def _relative(path: Path, target: Path) -> str:
    try:
        return str(path.resolve().relative_to(target.resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class HistoryScan:
    """Findings of the history secret scan, and why it was skipped (None when it ran)."""

    findings: list[AuditFinding]
    skipped: str | None = None


def scan_history(target: Path) -> HistoryScan:
    """Scan every commit of the repository that contains `target` for keys.

    The scan is `app.secrets_scan.scan_history(path)`, which returns findings
    with `path`, `line`, `detector` and `commit` attributes and raises its
    package's `GitError` or `AllowlistError`; those become `AuditError`.
    """
    try:
        module = importlib.import_module("app.secrets_scan")
    except ImportError:
        module = None
    scan = getattr(module, "scan_history", None)
    if scan is None:
        return HistoryScan([], "not available in this copy of the template")
    if not _in_git_work_tree(target):
        return HistoryScan([], f"skipped, because {target} is not in a git work tree")

    scan_errors = tuple(
        getattr(module, name) for name in ("GitError", "AllowlistError") if hasattr(module, name)
    )
    try:
        found = scan(target)
    except scan_errors as exc:
        raise AuditError(f"the history secret scan failed: {exc}") from exc

    findings = [
        AuditFinding(
            path=str(item.path),
            line=int(item.line),
            fault=HISTORY_FAULT,
            rule=f"history: {item.detector}",
            docs=HISTORY_DOCS,
            commit=item.commit,
        )
        for item in found
    ]
    return HistoryScan(sorted(findings))


def _in_git_work_tree(target: Path) -> bool:
    try:
        # git from PATH, as the user runs it; the target is a path argument.
        completed = subprocess.run(  # noqa: S603
            ["git", "-C", str(target), "rev-parse", "--is-inside-work-tree"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and completed.stdout.strip() == "true"


def command_audit(path: str) -> int:
    """Print one report for the folder `path`; return the exit status."""
    target = Path(path)
    if not target.is_dir():
        print(
            f"audit: {path} is not a folder; give the root of the project to scan", file=sys.stderr
        )
        return EXIT_ERROR

    semgrep = find_semgrep()
    if semgrep is None:
        print(
            "audit: Semgrep is not installed; run `make semgrep` in the template "
            "(or set SEMGREP to the path of a semgrep executable)",
            file=sys.stderr,
        )
        return EXIT_ERROR

    try:
        findings = run_rules(target, semgrep)
        history = scan_history(target)
    except AuditError as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return EXIT_ERROR

    return report([*findings, *history.findings], history_skipped=history.skipped)


def report(findings: Sequence[AuditFinding], *, history_skipped: str | None) -> int:
    """Print the findings and a summary; return the exit status."""
    for finding in findings:
        print(finding)

    if history_skipped is not None:
        print(f"history secret scan: {history_skipped}, so git history was not checked for keys")
    if findings:
        faults = len({finding.fault for finding in findings})
        print(f"{len(findings)} finding(s) of {faults} fault(s); the docs pages are in {DOCS_DIR}")
        return EXIT_FINDINGS
    print("No findings.")
    return EXIT_CLEAN
