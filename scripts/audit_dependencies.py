"""Audit the locked dependencies for known vulnerabilities with pip-audit.

Usage: python scripts/audit_dependencies.py requirements/app.txt requirements/dev.txt

Exit status: 0 when no known vulnerability is found, and also when the
vulnerability service could not be reached (the output then starts with
SKIPPED, so the result is not mistaken for a pass); 1 when a package has a known
vulnerability; 2 when pip-audit fails for another reason.

pip-audit alone exits 0 with "No known vulnerabilities found" when the
service answers "not found" for every package, as a blocked or filtering
network does, so this script counts how many packages were really audited.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

PASSED, VULNERABLE, FAILED = 0, 1, 2

# Exception names in pip-audit's error output when the service is unreachable.
UNREACHABLE_MARKERS = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "ReadTimeout",
    "ConnectTimeout",
    "Temporary failure in name resolution",
)


@dataclass(frozen=True)
class AuditResult:
    status: int
    lines: list[str]


def summarize(report: dict[str, Any]) -> AuditResult:
    """Turn pip-audit's JSON report into an exit status and the lines to print."""
    dependencies = report.get("dependencies", [])
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    audited = [dep for dep in dependencies if "skip_reason" not in dep]

    findings = [
        f"{dep['name']} {dep['version']}: {vuln['id']} "
        f"(fixed in {', '.join(vuln.get('fix_versions') or ['no release yet'])})"
        for dep in audited
        for vuln in dep.get("vulns", [])
    ]
    if findings:
        return AuditResult(VULNERABLE, [f"{len(findings)} known vulnerability(ies):", *findings])
    if dependencies and not audited:
        return AuditResult(
            PASSED,
            [
                f"SKIPPED: the vulnerability service answered for none of the "
                f"{len(dependencies)} locked packages (unreachable or filtered from this "
                "machine); the dependencies were NOT audited. Run `make dependency-audit` where the "
                "service can be reached."
            ],
        )
    lines = [f"No known vulnerabilities in {len(audited)} audited package(s)."]
    if skipped:
        names = ", ".join(sorted(dep["name"] for dep in skipped))
        lines.append(f"WARNING: {len(skipped)} package(s) were not audited: {names}")
    return AuditResult(PASSED, lines)


def summarize_failure(stderr: str) -> AuditResult:
    """Classify a pip-audit run that produced no report."""
    if any(marker in stderr for marker in UNREACHABLE_MARKERS):
        return AuditResult(
            PASSED,
            [
                "SKIPPED: the vulnerability service could not be reached from this machine; "
                "the dependencies were NOT audited. Run `make dependency-audit` where it can be reached."
            ],
        )
    last_line = stderr.strip().splitlines()[-1:] or ["no error output"]
    return AuditResult(FAILED, [f"pip-audit failed: {last_line[0]}"])


def audit(lock_files: list[str]) -> AuditResult:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--disable-pip",  # audit the lock files as written, without resolving
        "--require-hashes",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    for lock_file in lock_files:
        command += ["--requirement", lock_file]
    # The command is fixed above; only the lock file paths come from the caller.
    completed = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=600, check=False
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return summarize_failure(completed.stderr)
    return summarize(report)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: audit_dependencies.py LOCK_FILE...", file=sys.stderr)
        return FAILED
    result = audit(argv)
    for line in result.lines:
        print(line, file=sys.stderr if result.status else sys.stdout)
    return result.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
