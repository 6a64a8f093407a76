"""Fixtures of the batch-scoring and monitoring tests: a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from _postgres import start_server, why_unavailable


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL server started for this test session (per worker)."""
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    server = start_server()
    try:
        yield server.url
    finally:
        server.stop()
