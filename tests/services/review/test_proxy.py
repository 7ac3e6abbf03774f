"""Forwarding headers count only from trusted proxies, and only the one header the proxy writes."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from services.review.proxy import ClientHeader, IPNetwork, parse_address, resolve_client

PROXY = "10.0.0.5"
PROXIES: tuple[IPNetwork, ...] = (ip_network("10.0.0.0/24"), ip_network("::1/128"))
XFF = ClientHeader.X_FORWARDED_FOR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (" 198.51.100.7:4711 ", "198.51.100.7"),
        ('"[2001:db8::17]:4711"', "2001:db8::17"),
        ("[2001:db8::17]", "2001:db8::17"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("1.2.3.4; DROP TABLE", None),
        ("\ud800", None),
        ("[::1", None),
    ],
)
def test_addresses_in_headers(value: str, expected: str | None) -> None:
    parsed = parse_address(value)
    assert (str(parsed) if parsed else None) == expected


def test_an_untrusted_peer_is_the_client_whatever_it_sends() -> None:
    headers = [
        ("x-forwarded-for", "1.1.1.1"),
        ("forwarded", "for=2.2.2.2;proto=https"),
        ("x-real-ip", "3.3.3.3"),
        ("x-forwarded-proto", "https"),
    ]
    for header in ClientHeader:
        assert resolve_client("203.0.113.9", headers, PROXIES, header) == ("203.0.113.9", None)
    # Not even a loopback peer is trusted unless configured (uvicorn's default trusts 127.0.0.1).
    assert resolve_client("127.0.0.1", headers, PROXIES, XFF) == ("127.0.0.1", None)
    assert resolve_client("127.0.0.1", headers, (), XFF) == ("127.0.0.1", None)


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.1.1.1" itself; the proxy appended the address it saw.
    headers = [("x-forwarded-for", "1.1.1.1, 198.51.100.7"), ("x-forwarded-proto", "https")]
    assert resolve_client(PROXY, headers, PROXIES, XFF) == ("198.51.100.7", "https")
    # Two proxies of ours in a row: both are skipped.
    chained = [("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.0.0.9")]
    assert resolve_client(PROXY, chained, PROXIES, XFF) == ("198.51.100.7", None)
    # Several copies of the header are one list, in order.
    copies = [("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "198.51.100.7")]
    assert resolve_client(PROXY, copies, PROXIES, XFF)[0] == "198.51.100.7"


def test_only_the_configured_header_counts() -> None:
    """A header the proxy does not write is the client's to forge."""
    headers = [("x-forwarded-for", "198.51.100.7"), ("forwarded", "for=1.1.1.1"), ("x-real-ip", "2.2.2.2")]
    assert resolve_client(PROXY, headers, PROXIES, XFF)[0] == "198.51.100.7"
    assert resolve_client(PROXY, headers, PROXIES, ClientHeader.FORWARDED)[0] == "1.1.1.1"
    assert resolve_client(PROXY, headers, PROXIES, ClientHeader.X_REAL_IP)[0] == "2.2.2.2"
    # A trusted proxy that sent no such header: the proxy itself is the client.
    assert resolve_client(PROXY, [("x-real-ip", "2.2.2.2")], PROXIES, XFF) == (PROXY, None)


def test_rfc_7239_forwarded() -> None:
    headers = [
        ("forwarded", 'for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.5'),
    ]
    assert resolve_client("::1", headers, PROXIES, ClientHeader.FORWARDED) == ("2001:db8:cafe::17", "https")
    obfuscated = [("forwarded", "for=_hidden;proto=http")]
    assert resolve_client(PROXY, obfuscated, PROXIES, ClientHeader.FORWARDED) == ("_hidden", "http")


@pytest.mark.parametrize(
    "value",
    ["", ",,,", "x" * 10_000, "\x00\x01\x7f", "ünïcödé", "1.1.1.1\r\nSet-Cookie: a=b", '"', "[", "for="],
)
def test_hostile_values_give_a_bounded_printable_client(value: str) -> None:
    for header in ClientHeader:
        name = "x-forwarded-for" if header is XFF else header.value
        client, scheme = resolve_client(PROXY, [(name, value), ("x-forwarded-proto", value)], PROXIES, header)
        assert 0 < len(client) <= 64
        assert client.isprintable()
        assert scheme is None
