"""Fixtures of the in-process API tests (helpers live in api_support)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from api_support import Api, make_api


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async for a in make_api():
        yield a
