"""The demo's build runs with a large SQLite page cache and gives the connection its own back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from linli.demo.services import SEED_CACHE_KIB, _large_page_cache

pytestmark = pytest.mark.django_db


def _cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite page cache; PostgreSQL has nothing to set")
def test_the_build_has_a_large_page_cache_and_the_connection_gets_its_own_back():
    with transaction.atomic():
        before = _cache_size()
        with _large_page_cache():
            assert _cache_size() == -SEED_CACHE_KIB
        assert _cache_size() == before
