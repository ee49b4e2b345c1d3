"""The client address: the socket peer, or X-Forwarded-For from a listed proxy only."""

from __future__ import annotations

import pytest

from app.security.client_ip import TrustedProxies, client_ip

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.0.2.1")


def scope(peer: str | None, *forwarded_for: str) -> dict[str, object]:
    return {
        "client": (peer, 1234) if peer else None,
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded_for],
    }


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),
        ("10.1.2.3", ["203.0.113.9"], "203.0.113.9"),
        ("10.1.2.3", ["203.0.113.66, 203.0.113.9"], "203.0.113.9"),
        ("10.1.2.3", ["203.0.113.66, 203.0.113.9, 192.0.2.1"], "203.0.113.9"),
        ("10.1.2.3", ["10.9.9.9, 192.0.2.1"], "10.9.9.9"),
        ("10.1.2.3", [], "10.1.2.3"),
        (None, ["203.0.113.9"], "unknown"),
    ],
    ids=[
        "untrusted-peer",
        "trusted-peer",
        "client-spoofs-left",
        "two-proxies",
        "all-trusted",
        "no-header",
        "no-peer",
    ],
)
def test_client_ip(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert client_ip(scope(peer, *forwarded), PROXIES) == expected


def test_no_trusted_proxies_ignores_the_header() -> None:
    assert client_ip(scope("127.0.0.1", "203.0.113.9"), TrustedProxies()) == "127.0.0.1"


@pytest.mark.parametrize(
    ("entries", "message"),
    [("*", "entry 1 is '*'"), ("10.0.0.1, proxy.local", "entry 2 is not an IP address or CIDR")],
    ids=["wildcard", "hostname"],
)
def test_parse_refuses(entries: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrustedProxies.parse(entries)
