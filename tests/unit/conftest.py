"""Unit tests are pure logic: no sockets, no database, no servers."""

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

# The X-Ray SDK behind Powertools' Tracer opens its UDP emitter's socket (no traffic) when the
# tracer is first made: make it before sockets are blocked, so that unit tests importing a
# function (the OpenAPI document) pass on their own too (make test-unit), not only after the
# integration tests imported it.
import videogen.runtime.observability  # noqa: F401


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
