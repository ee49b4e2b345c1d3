"""Command line: `python -m app {serve,check,healthcheck,new-key,init-env,scan-secrets,audit}`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

KEY_BYTES = 32  # 256 bits; token_urlsafe turns them into 43 characters


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def command_new_key(_args: argparse.Namespace) -> int:
    print(new_key())
    return 0


def command_init_env(args: argparse.Namespace) -> int:
    """Write a development `.env` with a fresh key, unless one exists."""
    path = Path(args.path)
    if path.exists():
        print(f"{path} exists; leaving it unchanged.")
        return 0

    key = new_key()
    content = (
        "# Development settings written by `python -m app init-env`.\n"
        "# This file is ignored by git; never commit it.\n"
        "APP_ENV=development\n"
        f"API_KEYS=dev:{key}\n"
    )
    # Created with mode 0600 so other local users cannot read the key.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as env_file:
        env_file.write(content)

    print(f"Wrote {path} with a new development key for client 'dev'.")
    print("Call the API with it, for example:")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    print(f"  curl -H 'X-API-Key: {key}' http://{host}:{port}/api/me")
    print("The key is in .env; this command prints it only when it writes the file.")
    return 0


def command_check(_args: argparse.Namespace) -> int:
    """Print every problem a production start would have; exit 1 on any error."""
    from app.checks import errors_only
    from app.entrypoint import find_problems_from_environment

    problems = find_problems_from_environment()
    for problem in problems:
        print(problem)
    errors = errors_only(problems)
    if errors:
        print(f"{len(errors)} error(s) would stop a production start.", file=sys.stderr)
        return 1
    warnings = len(problems) - len(errors)
    print(f"No errors found ({warnings} warning(s)).")
    return 0


def health_check_host(allowed_hosts: list[str]) -> str:
    """Return a Host header the service accepts: the first allowed host."""
    if not allowed_hosts:
        return "localhost"
    host = allowed_hosts[0]
    # A wildcard entry such as *.example.com accepts any name under it.
    return "healthcheck" + host[1:] if host.startswith("*") else host


def command_healthcheck(_args: argparse.Namespace) -> int:
    """Exit 0 if GET /healthz on this machine returns 200, else 1 (for HEALTHCHECK)."""
    import http.client

    from app.entrypoint import load_settings_or_exit

    settings = load_settings_or_exit()
    connection = http.client.HTTPConnection("127.0.0.1", settings.port, timeout=3)
    try:
        connection.request(
            "GET", "/healthz", headers={"Host": health_check_host(settings.allowed_hosts)}
        )
        status = connection.getresponse().status
    except OSError as exc:
        print(f"health check failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"health check failed: GET /healthz returned {status}", file=sys.stderr)
        return 1
    return 0


def command_audit(args: argparse.Namespace) -> int:
    """Look for the eight faults in another project's folder."""
    from app.audit import command_audit as audit

    return audit(args.path)


def command_serve(_args: argparse.Namespace) -> int:
    """Start uvicorn with the settings' host, port, workers and proxy trust."""
    import uvicorn
    from fastapi import FastAPI

    from app.entrypoint import build_app_from_environment
    from app.settings import Settings

    # Built here first, so that a refused start exits before any worker runs.
    app = build_app_from_environment()
    settings: Settings = app.state.settings

    # One worker serves the app built above. Several workers each import
    # `app.main:app`, which builds the app again in every worker process.
    target: FastAPI | str = app if settings.web_concurrency == 1 else "app.main:app"
    trusted_proxies = settings.forwarded_allow_ips
    uvicorn.run(
        target,
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        log_config=None,  # keep the logging set up above
        access_log=False,  # app.access logs each request instead
        server_header=False,
        date_header=True,
        # Uvicorn trusts X-Forwarded-For from 127.0.0.1 by default. Here
        # only the proxies listed in FORWARDED_ALLOW_IPS are trusted.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )
    return 0


def command_scan_secrets(args: argparse.Namespace) -> int:
    """Print every secret found, masked; exit 1 when any is found, 2 when the scan fails."""
    from app.secrets_scan import (
        AllowlistError,
        GitError,
        scan_history,
        scan_staged,
        scan_working_tree,
    )

    try:
        if args.history:
            scope, findings = "history", scan_history(args.path)
        elif args.staged:
            scope, findings = "staged changes", scan_staged(args.path)
        else:
            scope, findings = "working tree", scan_working_tree(args.path)
    except (GitError, AllowlistError) as exc:
        print(f"scan-secrets: {exc}", file=sys.stderr)
        return 2

    for finding in findings:
        print(finding)
    if findings:
        print(
            f"{len(findings)} possible secret(s) in the {scope}. Treat a real key as leaked: "
            "rotate it first (docs/secret-in-git-history.md). For a false positive, add "
            "'# pragma: allowlist secret' to its line, or its hash, path and reason to "
            ".secrets-allowlist.",
            file=sys.stderr,
        )
        return 1
    print(f"No secrets found in the {scope}.", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("serve", help="start the server (settings from the environment and .env)")
    commands.add_parser(
        "check", help="list every setting or route that would stop a production start"
    )
    commands.add_parser(
        "healthcheck", help="exit 0 if the server on 127.0.0.1:PORT returns 200 for /healthz"
    )
    commands.add_parser("new-key", help="print a new random API key")
    init_env = commands.add_parser("init-env", help="write a development .env with a new key")
    init_env.add_argument("--path", default=".env", help="file to write (default: .env)")
    scan = commands.add_parser(
        "scan-secrets", help="find keys and other secrets in a git repository (masked)"
    )
    scan.add_argument(
        "path", nargs="?", default=".", help="a folder in the repository (default: .)"
    )
    scope = scan.add_mutually_exclusive_group()
    scope.add_argument(
        "--staged", action="store_true", help="scan the changes staged for the next commit"
    )
    scope.add_argument(
        "--history",
        action="store_true",
        help="scan every file version in every commit reachable from a branch or tag",
    )
    audit = commands.add_parser(
        "audit", help="look for the eight faults in a project's folder (exit 1 on findings)"
    )
    audit.add_argument("path", help="root folder of the project to scan")

    args = parser.parse_args(argv)
    handlers = {
        "serve": command_serve,
        "check": command_check,
        "healthcheck": command_healthcheck,
        "new-key": command_new_key,
        "init-env": command_init_env,
        "scan-secrets": command_scan_secrets,
        "audit": command_audit,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
