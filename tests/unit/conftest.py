"""Unit tests are pure logic: no sockets, no database, no servers."""

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

# The X-Ray SDK behind Powertools' Tracer opens its UDP emitter socket when first imported (it
# never sends with tracing off). Imported here, before sockets are blocked, so that a unit test
# importing a function does not fail on that; `make test-unit` alone failed without it.
import videogen.observability  # noqa: F401


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
