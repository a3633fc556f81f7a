"""Fixtures of the provider tests: one provider's fake server on loopback and its real adapter.

``case`` runs a test once per provider in ``cases.CASES``; a provider-specific module pins it
with ``@pytest.mark.parametrize("case", [OPENAI], indirect=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from devstack.fakes import FakeProviderServer
from tests.integration.providers.cases import CASES, POLLS_TO_FINISH, ProviderCase
from videogen.providers import VideoProvider


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Providers touch no database: override the integration suite's PostgreSQL cleaner."""


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> ProviderCase:
    found: ProviderCase = request.param
    return found


@pytest.fixture
def fake(case: ProviderCase) -> Iterator[Any]:
    """The provider's fake: jobs finish on the third poll; ``case.revoked_key`` is rejected."""
    server: FakeProviderServer
    with case.fake_class(
        complete_after_polls=POLLS_TO_FINISH - 1,
        rejected_keys=frozenset({case.revoked_key}),
        **case.fake_options,
    ) as server:
        yield server


@pytest.fixture
def provider(case: ProviderCase, fake: FakeProviderServer) -> Iterator[VideoProvider]:
    """The real adapter (and its SDK) pointed at the fake, holding ``case.key``."""
    key = case.provider_key(case.key, fake.base_url)
    with closing(case.adapter(key, case.settings(fake.base_url))) as adapter:
        yield adapter
