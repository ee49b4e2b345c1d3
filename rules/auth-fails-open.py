# Semgrep rule tests for auth-fails-open and secret-compared-with-equality.
import hashlib
import hmac
import os
import secrets

from fastapi import Header, HTTPException

API_KEY = os.environ.get("API_KEY")


def check_truthiness(x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open, secret-compared-with-equality
    if API_KEY and x_api_key != API_KEY:
        raise HTTPException(401)


def check_not_or(x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open, secret-compared-with-equality
    if not API_KEY or x_api_key == API_KEY:
        return
    raise HTTPException(401)


def check_settings_attribute(settings, x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open, secret-compared-with-equality
    if settings.api_key and x_api_key != settings.api_key:
        raise HTTPException(401)


def check_constant_time_but_open(x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open
    if API_KEY and not secrets.compare_digest(x_api_key, API_KEY):
        raise HTTPException(401)


def check_is_none(x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open, secret-compared-with-equality
    if API_KEY is not None and x_api_key != API_KEY:
        raise HTTPException(401)


def check_wrapped(x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open
    if API_KEY:
        # ruleid: secret-compared-with-equality
        if x_api_key != API_KEY:
            raise HTTPException(401)


def check_early_return(x_api_key: str = Header("")) -> None:
    # ruleid: auth-fails-open
    if not API_KEY:
        return  # authentication turned off
    if not hmac.compare_digest(x_api_key.encode(), API_KEY.encode()):
        raise HTTPException(401)


def check_early_return_settings(settings, x_api_key: str = Header("")) -> bool:
    # ruleid: auth-fails-open
    if settings.api_key is None:
        return True
    # ruleid: secret-compared-with-equality
    if x_api_key == settings.api_key:
        return True
    raise HTTPException(401)


def check_equality_only(x_api_key: str = Header("")) -> None:
    if not API_KEY:
        raise HTTPException(500)
    # ruleid: secret-compared-with-equality
    if x_api_key != API_KEY:
        raise HTTPException(401)


def check_equality_reversed(expected: str, token: str) -> bool:
    # ruleid: secret-compared-with-equality
    return expected == token


# The fix: a missing secret is a 500, never a pass, and the comparison is
# constant-time on SHA-256 digests (bytes), so any header value is safe.
def check_fails_closed(x_api_key: str = Header("")) -> None:
    # ok: auth-fails-open
    if not API_KEY:
        raise HTTPException(500)
    presented = hashlib.sha256(x_api_key.encode("latin-1")).digest()
    expected = hashlib.sha256(API_KEY.encode()).digest()
    # ok: auth-fails-open, secret-compared-with-equality
    if not hmac.compare_digest(presented, expected):
        raise HTTPException(401)


def check_wrapped_with_else(x_api_key: str = Header("")) -> None:
    # ok: auth-fails-open
    if API_KEY:
        if not hmac.compare_digest(x_api_key.encode(), API_KEY.encode()):
            raise HTTPException(401)
    else:
        raise HTTPException(500)


def shape_checks(api_key: str | None, token: str) -> bool:
    # ok: secret-compared-with-equality
    if api_key == None:  # noqa: E711
        return False
    # ok: secret-compared-with-equality
    if token == "":
        return False
    # ok: secret-compared-with-equality
    return len(token) == 43


# The template's own check (app/security/api_key.py), shortened.
class APIKeyAuth:
    def __init__(self, entries):
        self._entries = entries

    def _match(self, presented: str):
        # ok: auth-fails-open
        if not presented:
            return None
        digest = hashlib.sha256(presented.encode("latin-1")).digest()
        matched = None
        for entry in self._entries:
            # ok: secret-compared-with-equality
            if hmac.compare_digest(digest, entry.digest):
                matched = entry.client_id
        return matched
