from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gateway.hostlink import HostLink, LinkState

from .link_util import fast_config

LinkFactory = Callable[..., Awaitable[HostLink]]


@pytest.fixture
async def make_link() -> AsyncIterator[LinkFactory]:
    """Start HostLinks on fast virtual printers; stops them afterwards."""
    links: list[HostLink] = []

    async def factory(ready: bool = True, **overrides: Any) -> HostLink:
        link = HostLink(fast_config(**overrides))
        links.append(link)
        await link.start()
        if ready:
            assert link.state is LinkState.READY, link.state_message
        return link

    yield factory
    for link in links:
        await link.stop()
