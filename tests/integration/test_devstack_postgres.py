"""The local stack's PostgreSQL from a checkout the ``postgres`` user cannot enter (cloned as
root into a private directory): the cluster lives under a directory of that user's instead,
named after the checkout, and keeps its data across restarts. Root only: as an ordinary user
PostgreSQL runs as that user, who can enter their own checkout."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.postgres import SUPERUSER, EmbeddedPostgres, cluster_home, free_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")


@pytest.fixture
def fallback_root() -> Iterator[Path]:
    """Stands in for /var/tmp: a directory everyone may enter."""
    root = Path(tempfile.mkdtemp(prefix="videogen-fallback-"))
    root.chmod(0o1777)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_checkout() -> Iterator[Path]:
    """A checkout's ``.local`` inside a directory only root may enter (``mktemp -d``)."""
    root = Path(tempfile.mkdtemp(prefix="videogen-private-"))
    home = root / "checkout" / ".local"
    home.mkdir(parents=True)
    yield home
    shutil.rmtree(root, ignore_errors=True)


def test_a_home_the_postgres_user_can_enter_keeps_the_cluster(fallback_root):
    home = Path(tempfile.mkdtemp(prefix="videogen-open-"))
    try:
        home.chmod(0o755)
        assert cluster_home(home, fallback_root) == home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_a_private_checkout_keeps_its_cluster_in_a_directory_of_the_postgres_user(
    private_checkout, fallback_root
):
    # When the stack asks where its cluster goes
    where = cluster_home(private_checkout, fallback_root)

    # Then it is a directory of the postgres user, 0700, named after the checkout, the same each time
    assert where.parent == fallback_root
    assert where.name.startswith("videogen-devstack-checkout-")
    assert where.owner() == SUPERUSER
    assert where.stat().st_mode & 0o777 == 0o700
    assert cluster_home(private_checkout, fallback_root) == where
    other = private_checkout.parent.parent / "other" / ".local"
    other.mkdir(parents=True)
    assert cluster_home(other, fallback_root) != where

    # and a cluster there starts, and keeps its data across a restart
    pg = EmbeddedPostgres(where / "pgdata", free_port(), log_file=where / "postgres.log")
    try:
        pg.start()
        pg.create_database("kept")
        pg.stop()
        pg.start()
        assert pg._psql("postgres", "SELECT 1 FROM pg_database WHERE datname = 'kept'").strip() == "1"
    finally:
        pg.stop("immediate")


def test_a_link_planted_where_the_cluster_would_go_is_refused(private_checkout, fallback_root):
    where = cluster_home(private_checkout, fallback_root)
    where.rmdir()
    where.symlink_to(private_checkout)

    with pytest.raises(PermissionError, match="not a directory"):
        cluster_home(private_checkout, fallback_root)
