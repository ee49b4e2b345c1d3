"""The client's IP address, trusting X-Forwarded-For only from listed proxies.

Defends against: a client choosing its own rate-limit bucket by sending
`X-Forwarded-For`. The address is the socket peer. Only when the peer is a
listed proxy is `X-Forwarded-For` read: from the right, skipping every
listed proxy, the first other address is the client. When every address is
a trusted proxy, the leftmost one counts.

This is the rule uvicorn's `--proxy-headers` applies. The app applies it
itself so that the same rule applies under any server. Under uvicorn with
`proxy_headers` on and the same list, uvicorn has already replaced the peer
by the client found this way; that address is not a trusted proxy (or the
header held only trusted ones), so applying the rule again gives the same
answer. Keep the server's list and this one equal, or turn the server's off.

Needs: the standard library. Imports nothing else from this project.

Wiring into an existing app::

    from client_ip import TrustedProxies, client_ip

    proxies = TrustedProxies.parse(os.environ.get("FORWARDED_ALLOW_IPS", ""))
    ip = client_ip(request.scope, proxies)   # in a dependency or key function
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TrustedProxies", "client_ip"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The address of a request without a socket peer (an in-process test client,
# a Unix socket): one shared bucket, never an unlimited one.
UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True)
class TrustedProxies:
    """Addresses and networks whose X-Forwarded-For header is believed."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: str | Iterable[str]) -> TrustedProxies:
        """Parse IPs and CIDRs (a comma-separated string or a list).

        Raises `ValueError` naming the entry's position. `*` is refused: it
        would let any client pick its own address.
        """
        items = entries.split(",") if isinstance(entries, str) else list(entries)
        networks: list[IPNetwork] = []
        for position, raw in enumerate(items, start=1):
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                raise ValueError(
                    f"entry {position} is '*', which trusts every client's X-Forwarded-For"
                )
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"entry {position} is not an IP address or CIDR") from None
        return cls(tuple(networks))

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def client_ip(scope: Mapping[str, Any], proxies: TrustedProxies) -> str:
    """Return the client's address for an ASGI scope (`request.scope`)."""
    client = scope.get("client")
    peer = str(client[0]) if client else UNKNOWN_CLIENT
    if not proxies.networks or peer not in proxies:
        return peer

    forwarded: list[str] = []
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    forwarded = [address for address in forwarded if address]
    if not forwarded:
        return peer

    for address in reversed(forwarded):
        if address not in proxies:
            return address
    return forwarded[0]
