"""API-key authentication that fails closed and compares in constant time.

Defends against: a key check that is skipped when no key is configured (the
service then accepts every request), timing attacks on the comparison, and
keys leaking through query strings, cookies, logs or error messages.

Needs: FastAPI (Starlette). Imports nothing else from this project.

Wiring into an existing app::

    from api_key import APIKeyAuth, parse_api_keys

    auth = APIKeyAuth(parse_api_keys(os.environ.get("API_KEYS", "")))
    router = APIRouter(dependencies=[Depends(auth)])   # every route needs a key

    @router.get("/me")
    def me(client_id: str = Depends(auth)) -> dict[str, str]:  # same call, cached
        return {"client_id": client_id}

`API_KEYS` is a comma-separated list of `client_id:key` entries, or
`client_id:sha256:<64 hex digits>` to store only a key's SHA-256 digest.
One client id may have several keys at once, which is how keys rotate.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status

__all__ = [
    "API_KEY_HEADER",
    "APIKeyAuth",
    "APIKeyEntry",
    "parse_api_keys",
]

API_KEY_HEADER = "X-API-Key"

_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Keys are limited to printable ASCII without spaces or commas, so that the
# list format stays unambiguous and the header carries the key unchanged.
_KEY = re.compile(r"[!-+\--~]+")
_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class APIKeyEntry:
    """One configured key: the client it identifies and the key's SHA-256 digest.

    The plain key is kept only so that start-up checks can judge its length
    and whether it is a placeholder; it is excluded from `repr`.
    """

    client_id: str
    digest: bytes = field(repr=False)
    plain_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_key(cls, client_id: str, key: str) -> APIKeyEntry:
        return cls(client_id, hashlib.sha256(key.encode("ascii")).digest(), key)


def parse_api_keys(value: str) -> tuple[APIKeyEntry, ...]:
    """Parse `client_id:key[,client_id:key...]` into entries.

    Raises `ValueError` naming the entry's position and the problem; the
    message never contains the key.
    """
    entries: list[APIKeyEntry] = []
    seen: set[bytes] = set()
    for position, raw in enumerate(value.split(","), start=1):
        item = raw.strip()
        if not item:
            continue

        client_id, separator, key = item.partition(":")
        client_id = client_id.strip()
        key = key.strip()
        if not separator or not key:
            raise ValueError(f"entry {position} must be client_id:key")
        if not _CLIENT_ID.fullmatch(client_id):
            raise ValueError(
                f"entry {position} has an invalid client id: use 1 to 64 letters, "
                "digits, '.', '_' or '-', starting with a letter or digit"
            )

        digest_match = _DIGEST.fullmatch(key)
        if digest_match:
            entry = APIKeyEntry(client_id, bytes.fromhex(digest_match.group(1)))
        elif _KEY.fullmatch(key):
            entry = APIKeyEntry.from_key(client_id, key)
        else:
            raise ValueError(
                f"entry {position} (client {client_id!r}) has a key with characters other than "
                "printable ASCII without spaces or commas"
            )

        if entry.digest in seen:
            raise ValueError(
                f"entry {position} (client {client_id!r}) repeats a key already listed"
            )
        seen.add(entry.digest)
        entries.append(entry)
    return tuple(entries)


class APIKeyAuth:
    """FastAPI dependency that returns the caller's client id or raises 401.

    With no keys configured it raises 500 and logs an ERROR naming the
    variable: a missing secret must never turn into "no check".
    """

    def __init__(self, entries: tuple[APIKeyEntry, ...], *, variable: str = "API_KEYS") -> None:
        self._entries = tuple(entries)
        self._variable = variable

    async def __call__(self, request: Request) -> str:
        if not self._entries:
            logger.error(
                "%s is not set, so no API key can be checked; rejecting %s %s",
                self._variable,
                request.method,
                request.url.path,
            )
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR)

        # Only the header counts: a key in the query string ends up in proxy
        # and access logs, and one in a cookie is sent by browsers on
        # cross-site requests. More than one header is ambiguous: reject.
        values = request.headers.getlist(API_KEY_HEADER)
        client_id = self._match(values[0]) if len(values) == 1 else None
        if client_id is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
            )

        request.state.client_id = client_id
        return client_id

    def _match(self, presented: str) -> str | None:
        if not presented:
            return None

        # Starlette decodes header bytes as Latin-1, so this recovers the raw
        # bytes for any input and cannot raise. Hashing first gives both sides
        # the same length, and compare_digest on bytes is constant-time.
        digest = hashlib.sha256(presented.encode("latin-1")).digest()

        # Compare against every entry without stopping at a match, so the
        # time taken does not reveal which entry (or how many) matched.
        matched: str | None = None
        for entry in self._entries:
            if hmac.compare_digest(digest, entry.digest):
                matched = entry.client_id
        return matched
