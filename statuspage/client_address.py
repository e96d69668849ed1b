"""Who the client is: the address every rate limit, the login protection and lockouts key on.

Behind a reverse proxy the TCP peer (REMOTE_ADDR) is the proxy. Each proxy appends the address
it received the request from to `X-Forwarded-For`, so the header reads left to right from the
(claimed) client to the last proxy; everything left of the proxies we run is whatever the
client chose to send. We therefore walk the chain from the right, skipping our own proxies
(`settings.TRUSTED_PROXIES`), and the first address that is not one of them is the client. A
spoofed left-most value is never reached unless every hop to its right is ours.

With no trusted proxies configured (the default) the header is ignored: the peer is the client.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Rate limits key an IPv6 client on its /64: one subscriber line usually gets a whole /64,
# so keying on single addresses would give each client 2^64 budgets.
IPV6_KEY_PREFIX = 64


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def parse_address(value: str) -> IPAddress | None:
    """An address from REMOTE_ADDR or one X-Forwarded-For hop (`[v6]:port` and `v4:port`
    too); None for anything else."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(request) -> str:
    """The client's address as a string: the right-most hop that is not a trusted proxy."""
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return request.META.get("REMOTE_ADDR", "")
    networks = trusted_networks()
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    client = peer
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # Our proxies write addresses; garbage came from beyond them. The proxy that
            # forwarded it is the last hop we can vouch for.
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def address_key(address: str) -> str:
    """What rate limits count an address as: IPv4 as is, IPv6 by its /64 network."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((parsed, IPV6_KEY_PREFIX), strict=False)
        return str(network.network_address)
    return str(parsed) if parsed is not None else address


def client_key(request) -> str:
    """The key rate limits and login lockouts use for this request's client (django-axes
    calls it through AXES_CLIENT_IP_CALLABLE)."""
    return address_key(client_address(request))
