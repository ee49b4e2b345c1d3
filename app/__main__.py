"""Command line: `python -m app {serve,check,new-key,init-env,audit}`."""

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
    print(f"  curl -H 'X-API-Key: {key}' http://127.0.0.1:8000/api/me")
    return 0


def command_check(_args: argparse.Namespace) -> int:
    """Report every problem a production start would have."""
    from app.checks import find_settings_problems
    from app.entrypoint import load_settings_or_exit

    settings = load_settings_or_exit()
    problems = find_settings_problems(settings)
    for problem in problems:
        print(problem)
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors:
        print(f"{len(errors)} problem(s) would stop a production start.", file=sys.stderr)
        return 1
    print("No problems found.")
    return 0


def command_audit(args: argparse.Namespace) -> int:
    """Look for the eight faults in another project's folder."""
    from app.audit import command_audit as audit

    return audit(args.path)


def command_serve(_args: argparse.Namespace) -> int:
    """Start uvicorn with the settings' host, port, workers and proxy trust."""
    import uvicorn

    from app.entrypoint import build_app_from_environment, load_settings_or_exit, setup_logging

    settings = load_settings_or_exit()
    setup_logging(settings)
    # Build once here so that a refused start exits before any worker runs.
    build_app_from_environment()

    trusted_proxies = settings.forwarded_allow_ips
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        log_config=None,  # keep the logging set up above
        access_log=False,  # app.access logs each request instead
        server_header=False,
        date_header=True,
        # Uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told
        # otherwise; here only the proxies listed in FORWARDED_ALLOW_IPS are.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("serve", help="start the server (settings from the environment and .env)")
    commands.add_parser("check", help="list every setting that would stop a production start")
    commands.add_parser("new-key", help="print a new random API key")
    init_env = commands.add_parser("init-env", help="write a development .env with a new key")
    init_env.add_argument("--path", default=".env", help="file to write (default: .env)")
    audit = commands.add_parser(
        "audit", help="look for the eight faults in a project's folder (exit 1 on findings)"
    )
    audit.add_argument("path", help="root folder of the project to scan")

    args = parser.parse_args(argv)
    handlers = {
        "serve": command_serve,
        "check": command_check,
        "new-key": command_new_key,
        "init-env": command_init_env,
        "audit": command_audit,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
