"""Who a request really came from, and whether its cookies must be ``Secure``.

Forwarding headers (``X-Forwarded-For``, ``Forwarded``, ``X-Real-IP``) are whatever the sender
typed unless a proxy we run wrote them, so they are read only when the TCP peer is one of
``REVIEW_TRUSTED_PROXIES`` (empty by default: trust none), and only the one header
``REVIEW_PROXY_CLIENT_HEADER`` names: a header the proxy passes through untouched is the
client's to forge. The chain is walked from the right, past trusted proxies, to the first
address that is not one: that is the client.

The app does this itself (``TrustedProxyMiddleware``) and ``python -m services.review serve``
runs uvicorn with ``proxy_headers=False``: uvicorn's own handling is on by default and trusts
``X-Forwarded-For`` from 127.0.0.1, which let anyone on the host pick a new address per sign-in
attempt. One place decides, and the tests (FastAPI's TestClient) exercise that same place.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from enum import StrEnum
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_CLIENT_LENGTH = 64  # what the throttle table stores; anything longer is not an address
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip")
LOOPBACK_NAMES = ("localhost",)


class ClientHeader(StrEnum):
    """The header the trusted proxy writes the client's address into."""

    X_FORWARDED_FOR = "x-forwarded-for"
    FORWARDED = "forwarded"
    X_REAL_IP = "x-real-ip"


def parse_address(value: str) -> IPAddress | None:
    """An IP from a header entry (``1.2.3.4``, ``1.2.3.4:5``, ``[::1]:5``, ``"[::1]"``); else None.

    IPv4-mapped IPv6 addresses become IPv4, so one client has one spelling."""
    text = value.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(host: str, proxies: Sequence[IPNetwork]) -> bool:
    address = parse_address(host)
    return address is not None and any(address in network for network in proxies)


def _split_outside_quotes(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _forwarded_elements(values: Iterable[str]) -> list[dict[str, str]]:
    """RFC 7239 ``Forwarded`` elements, left to right, as lower-case key -> unquoted value."""
    elements: list[dict[str, str]] = []
    for value in values:
        for element in _split_outside_quotes(value, ","):
            pairs: dict[str, str] = {}
            for pair in _split_outside_quotes(element, ";"):
                key, _, raw = pair.partition("=")
                pairs[key.strip().lower()] = raw.strip().strip('"')
            elements.append(pairs)
    return elements


def forwarded_chain(headers: Sequence[tuple[str, str]], header: ClientHeader) -> list[str]:
    """The addresses ``header`` lists, client first (several copies of a header are one list)."""
    values = [value for name, value in headers if name == header.value]
    if header is ClientHeader.FORWARDED:
        return [element.get("for", "") for element in _forwarded_elements(values)]
    return [entry.strip() for value in values for entry in value.split(",")]


def forwarded_scheme(headers: Sequence[tuple[str, str]], header: ClientHeader) -> str | None:
    """The scheme the nearest proxy says it was reached by (``proto=`` or ``X-Forwarded-Proto``)."""
    if header is ClientHeader.FORWARDED:
        protos = [
            element["proto"]
            for element in _forwarded_elements(value for name, value in headers if name == "forwarded")
            if "proto" in element
        ]
    else:
        protos = [
            entry.strip()
            for name, value in headers
            if name == "x-forwarded-proto"
            for entry in value.split(",")
        ]
    scheme = protos[-1].lower() if protos else None
    return scheme if scheme in ("http", "https") else None


def _display(host: str) -> str:
    address = parse_address(host)
    if address is not None:
        return str(address)
    return "".join(char for char in host if char.isprintable())[:MAX_CLIENT_LENGTH] or "unknown"


def resolve_client(
    peer: str, headers: Sequence[tuple[str, str]], proxies: Sequence[IPNetwork], header: ClientHeader
) -> tuple[str, str | None]:
    """``(client address, scheme or None)`` for a request from TCP peer ``peer``.

    Right to left: each hop that is a trusted proxy hands over to the address it names. The first
    hop that is not trusted is the client; an entry that is not an address ends the walk too."""
    if not is_trusted(peer, proxies):
        return peer, None
    hop = peer
    for entry in reversed(forwarded_chain(headers, header)):
        hop = _display(entry)
        if not is_trusted(hop, proxies):
            break
    return hop, forwarded_scheme(headers, header)


class TrustedProxyMiddleware:
    """Rewrites the ASGI scope's client and scheme from a trusted proxy's headers; else leaves them."""

    def __init__(self, app: ASGIApp, proxies: Sequence[IPNetwork], header: ClientHeader) -> None:
        self.app = app
        self.proxies = tuple(proxies)
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.proxies and client:
            headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
            host, scheme = resolve_client(str(client[0]), headers, self.proxies, self.header)
            if host != client[0] or scheme is not None:
                scope = dict(scope)
                scope["client"] = (host, 0 if host != client[0] else client[1])
                if scheme is not None:
                    scope["scheme"] = scheme if scope["type"] == "http" else scheme.replace("http", "ws")
        await self.app(scope, receive, send)


def is_loopback(host: str) -> bool:
    address = parse_address(host)
    return address is not None and address.is_loopback


def plain_http_from_this_machine(request: Request) -> bool:
    """A browser on the app's own machine over http://localhost (``make run``), nothing in between.

    Any forwarding header means a proxy is involved, and a ``Host`` other than a loopback name means
    the browser asked for some other site: both count as "maybe deployed", so cookies are Secure."""
    if request.url.scheme != "http" or request.client is None or not is_loopback(request.client.host):
        return False
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        hostname = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
    except ValueError:  # "[not-an-address" and the like
        return False
    return hostname in LOOPBACK_NAMES or hostname.endswith(".localhost") or is_loopback(hostname)


def cookies_secure(request: Request, setting: bool | str) -> bool:
    """``Secure`` cookies: as configured, or with ``auto`` everywhere but plain http on loopback."""
    if isinstance(setting, bool):
        return setting
    return not plain_http_from_this_machine(request)
