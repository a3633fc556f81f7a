"""The egress guard for endpoints a user names (an OpenAI-compatible base URL): no request from
our functions may reach our own network, the cloud's metadata service, or loopback.

Every connection goes through :class:`GuardedTransport`, which for each request (redirect hops
included: the client sends each hop through the transport anew):

1. refuses any scheme but https (plain http only to an allowlisted host, and only when
   ``allow_http_provider_endpoints`` is set: the local stack's fakes);
2. resolves the host once (``getaddrinfo``: every notation a URL parser or libc accepts,
   ``2130706433``, ``0x7f.1``, ``[::ffff:10.0.0.1]``, ends up as the address it means) and
   refuses the request if any address is not public: loopback, private (RFC 1918), link-local
   (the metadata address 169.254.169.254 among them), unique-local, CGNAT (100.64.0.0/10),
   unspecified, multicast, reserved or documentation ranges, and IPv6 forms that embed one of
   these (IPv4-mapped, NAT64, 6to4, Teredo);
3. connects to the very address it checked (the URL's host is replaced by it, the TLS server
   name and the ``Host`` header stay the name), so a second lookup can never swap it (DNS
   rebinding).

Hosts in the operator's allowlist (``provider_endpoint_allowlist``: names or CIDR networks)
skip step 2: a gateway inside the VPC. A refusal is :class:`EndpointRefused`, raised before any
connection is opened.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses`` (textual); :func:`system_resolver` unless a test passes one."""

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EndpointRefused(httpx2.TransportError):
    """A request to an address the guard refuses; nothing was sent. The message names the host
    and why (never a key: URLs with credentials are refused before they get here)."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), as the system resolver answers."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        # Not a refusal: a name that does not resolve (yet) is an unreachable endpoint.
        raise httpx2.ConnectError(f"the host {host!r} could not be resolved") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached, or ``None`` when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal(embedded)
            return f"embeds {embedded}, which {reason}" if reason else None
    checks = (
        (address.is_unspecified, "is unspecified"),
        (address.is_loopback, "is a loopback address"),
        (address.is_link_local, "is link-local (the cloud metadata service lives there)"),
        (address.is_multicast, "is multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "is carrier-grade NAT space"),
        (address.is_reserved, "is reserved"),
        (address.is_private, "is a private address"),
        (not address.is_global, "is not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """What the guard lets through: the operator's allowlist, and whether plain http may reach it."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allow_http: bool = False
    resolver: Resolver = system_resolver

    @classmethod
    def from_allowlist(
        cls, allowlist: str, *, allow_http: bool = False, resolver: Resolver = system_resolver
    ) -> EgressPolicy:
        """A policy from ``provider_endpoint_allowlist`` ("gw.internal, 10.1.0.0/16")."""
        hosts: set[str] = set()
        networks = []
        for entry in (part.strip().lower() for part in allowlist.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), allow_http, resolver)

    def _allowlisted(self, host: str, address: IPAddress | None = None) -> bool:
        if host.lower().rstrip(".") in self.allowed_hosts:
            return True
        return address is not None and any(address in network for network in self.allowed_networks)

    def check_url(self, url: str) -> None:
        """Refuse a base URL a user typed, before anything is stored or sent (``EndpointRefused``)."""
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            raise EndpointRefused("the base URL must not carry a user name or password")
        if parts.query or parts.fragment:
            raise EndpointRefused("the base URL must not carry a query or a fragment")
        host = parts.hostname
        if not host:
            raise EndpointRefused("the base URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise EndpointRefused("the base URL's port is not a number from 1 to 65535") from None
        self.address_for(parts.scheme, host, port)

    def address_for(self, scheme: str, host: str, port: int) -> str:
        """The checked address to connect to for ``host`` (see the module doc), or ``EndpointRefused``."""
        if scheme not in ("https", "http") or (scheme == "http" and not self.allow_http):
            raise EndpointRefused(f"only https endpoints are allowed, not {scheme}://{host}")
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)]
        if not addresses:
            raise EndpointRefused(f"the host {host!r} resolves to no address")
        for address in addresses:
            reason = refusal(address)
            if reason is not None and not self._allowlisted(host, address):
                raise EndpointRefused(f"the host {host!r} resolves to {address}, which {reason}")
        if scheme == "http" and not all(self._allowlisted(host, address) for address in addresses):
            raise EndpointRefused(f"only https endpoints are allowed, not {scheme}://{host}")
        return str(addresses[0])


class GuardedTransport(httpx2.BaseTransport):
    """An httpx transport that sends each request to the address :class:`EgressPolicy` checked.

    One inner transport (connection pool) per host name, so a TLS connection made for one name
    is never reused for another that happens to share its address.
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._pools: dict[str, httpx2.HTTPTransport] = {}

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        address = self._policy.address_for(url.scheme, host, port)
        request.url = url.copy_with(host=address)
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        pool = self._pools.get(host)
        if pool is None:
            # trust_env off: a proxy from the environment would make the lookup that counts.
            pool = self._pools[host] = httpx2.HTTPTransport(trust_env=False)
        return pool.handle_request(request)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def refused_by_guard(exc: BaseException) -> EndpointRefused | None:
    """The guard's refusal behind ``exc`` (an SDK wraps transport errors), if it is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, EndpointRefused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


__all__ = [
    "EgressPolicy",
    "EndpointRefused",
    "GuardedTransport",
    "refusal",
    "refused_by_guard",
    "system_resolver",
]
