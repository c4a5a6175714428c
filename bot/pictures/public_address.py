"""Which addresses count as the public internet, for fetches the task API may point anywhere.

An IPv6 address can carry an IPv4 address inside it, and a translator or tunnel on the way
delivers the packet to that IPv4 address: NAT64 with DNS64 on an IPv6-only cluster turns
`64:ff9b::a9fe:a9fe` into 169.254.169.254, the metadata service. Python's `is_global` calls
most of these ranges global. So every IPv4-embedding range is listed here: where the embedded
address sits at a fixed place it is decoded and judged by the IPv4 rules; where its place
depends on the network's own prefix length (local-use NAT64), the range is refused. Pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address
Decode = Callable[[V6], list[V4]] | None  # None: the whole range is refused


def _low32(address: V6) -> list[V4]:
    return [V4(int(address) & 0xFFFFFFFF)]


def _sixtofour(address: V6) -> list[V4]:
    return [address.sixtofour] if address.sixtofour is not None else []


def _teredo(address: V6) -> list[V4]:
    """Both the Teredo server and the (de-obfuscated) client: either one is reached."""
    return list(address.teredo) if address.teredo is not None else []


# RFC 6890 and the IANA IPv6 special-purpose registry; the first match decides.
EMBEDDING: tuple[tuple[ipaddress.IPv6Network, Decode], ...] = tuple(
    (ipaddress.IPv6Network(net), decode)
    for net, decode in (
        ("::ffff:0:0/96", _low32),  # IPv4-mapped (RFC 4291)
        ("::ffff:0:0:0/96", _low32),  # SIIT, IPv4-translated (RFC 2765)
        ("::/96", _low32),  # IPv4-compatible, deprecated (RFC 4291); :: and ::1 included
        ("64:ff9b::/96", _low32),  # NAT64 well-known prefix (RFC 6052)
        ("64:ff9b:1::/48", None),  # local-use NAT64 (RFC 8215): the IPv4 sits at any length
        ("2002::/16", _sixtofour),  # 6to4 (RFC 3056)
        ("2001::/32", _teredo),  # Teredo (RFC 4380)
    )
)


# Ranges that are not the public internet though Python (3.11 to 3.13) calls them global;
# the IANA IPv6 special-purpose registry names them.
NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "fec0::/10",  # site-local, deprecated (RFC 3879): still routed inside old networks
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs (RFC 9602): segment routing inside one operator's domain
    )
)


def embedded(address: V6) -> list[V4] | None:
    """The IPv4 addresses `address` leads to ([] when it embeds none), or None when it is in
    a range refused whole."""
    for network, decode in EMBEDDING:
        if address in network:
            return None if decode is None else decode(address)
    return []


def is_public(address: IPAddress) -> bool:
    """Reachable on the public internet: not loopback, private, link-local (metadata at
    169.254.169.254 included), multicast, reserved or unspecified, not in `NOT_PUBLIC_V6`,
    nor an IPv6 address that leads to one of those through the IPv4 address it embeds."""
    if isinstance(address, V6):
        if any(address in network for network in NOT_PUBLIC_V6):
            return False
        inner = embedded(address)
        if inner is None:
            return False
        if inner:
            return all(is_public(v4) for v4 in inner)
    return address.is_global and not address.is_multicast
