"""Who the client of a request is, when CityLens may sit behind reverse proxies.

The address a request came from is the direct peer's. Behind a reverse proxy that peer is the
proxy, and the visitor's address is in `X-Forwarded-For`, a header anyone can also send. So the
header is read only when the direct peer is one of the proxies listed in
`CITYLENS_TRUSTED_PROXIES`, and then from the right: each trusted proxy appends the address it
was reached from, so the right-most address that is not itself a trusted proxy is the client;
whatever is left of it was written by the client and proves nothing.
"""

from __future__ import annotations

import ipaddress

import flask

EXTENSION = "citylens_trusted_proxies"
FORWARDED_FOR = "X-Forwarded-For"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_trusted_proxies(setting: str) -> tuple[Network, ...]:
    """`CITYLENS_TRUSTED_PROXIES` as networks: comma-separated addresses or CIDR blocks."""
    networks = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"CITYLENS_TRUSTED_PROXIES: {item!r} is neither an IP address nor a network"
            ) from exc
    return tuple(networks)


def register_trusted_proxies(server: flask.Flask, setting: str) -> None:
    server.extensions[EXTENSION] = parse_trusted_proxies(setting)


def _address(text: str) -> Address | None:
    """An address as a proxy writes it (maybe `[v6]:port` or `v4:port`), IPv4-mapped IPv6
    addresses as IPv4 so one client has one spelling; None when it is no address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address() -> str:
    """The address of this request's client (see the module's docstring)."""
    request = flask.request
    proxies = flask.current_app.extensions.get(EXTENSION, ())
    peer = _address(request.remote_addr or "")
    if peer is None:
        return request.remote_addr or "unknown"
    if not _trusted(peer, proxies):
        return str(peer)
    hops = ",".join(request.headers.getlist(FORWARDED_FOR)).split(",")
    client = peer
    for hop in reversed([h for h in hops if h.strip()]):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: the last trusted hop is all we know
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
