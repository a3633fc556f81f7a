"""The egress guard: which addresses an endpoint a user names may reach (no socket here: the guard
is fed resolvers). Requests through it over loopback: tests/integration/test_key_save.py."""

from __future__ import annotations

import ipaddress

import pytest

from videogen.providers.egress import EgressPolicy, EndpointRefused, refusal


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address under test, nothing binds it)
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "private"),  # documentation (TEST-NET-1)
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:10.0.0.1", "embeds 10.0.0.1"),
        ("::ffff:169.254.169.254", "embeds 169.254.169.254"),
        ("64:ff9b::a9fe:a9fe", "embeds 169.254.169.254"),
        ("2002:a00:1::", "embeds 10.0.0.1"),
    ],
)
def test_non_public_addresses_are_refused_in_every_notation(address: str, why: str) -> None:
    reason = refusal(ipaddress.ip_address(address))

    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("address", ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def resolving(table: dict[str, list[str]]) -> EgressPolicy:
    return EgressPolicy(resolver=lambda host, port: table[host])


def test_a_host_name_resolving_to_a_private_address_is_refused() -> None:
    policy = resolving({"gateway.example.com": ["93.184.216.34", "10.1.2.3"]})

    with pytest.raises(EndpointRefused, match=r"resolves to 10\.1\.2\.3, which is a private address"):
        policy.check_url("https://gateway.example.com/v1")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://1.1.1.1/v1", "only https"),
        ("ftp://1.1.1.1/v1", "only https"),
        ("https://user:pass@1.1.1.1/v1", "user name or password"),
        ("https://1.1.1.1/v1?token=x", "query"),
        ("https:///v1", "no host"),
        ("https://1.1.1.1:99999/v1", "port"),
    ],
)
def test_malformed_base_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(EndpointRefused, match=message):
        EgressPolicy(resolver=lambda host, port: ["1.1.1.1"]).check_url(url)


def test_the_operator_allowlist_lets_its_own_private_hosts_through() -> None:
    table = {"gw.internal": ["10.1.0.7"], "other.internal": ["10.2.0.7"], "vpc.internal": ["10.9.0.1"]}
    policy = EgressPolicy.from_allowlist("gw.internal, 10.9.0.0/16", resolver=lambda h, p: table[h])

    policy.check_url("https://gw.internal/v1")
    policy.check_url("https://vpc.internal/v1")
    with pytest.raises(EndpointRefused):
        policy.check_url("https://other.internal/v1")
    with pytest.raises(EndpointRefused, match="only https"):
        policy.check_url("http://gw.internal/v1")  # plain http: local fakes only


def test_plain_http_reaches_an_allowlisted_host_only_when_allowed() -> None:
    policy = EgressPolicy.from_allowlist("127.0.0.1", allow_http=True, resolver=lambda host, port: [host])

    policy.check_url("http://127.0.0.1:8080/v1")
    with pytest.raises(EndpointRefused):
        policy.check_url("http://127.0.0.2:8080/v1")
