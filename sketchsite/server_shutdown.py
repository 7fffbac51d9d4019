"""Work the web server awaits when it stops, before daphne cancels the running requests and sockets.

The ASGI application registers coroutine functions here; ``sketchsite.http_server.BoundedServer``
runs them from daphne's shutdown. Outside that server (tests' in-process communicators) nothing
runs them.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

_hooks: list[Callable[[], Awaitable[None]]] = []


def register(hook: Callable[[], Awaitable[None]]) -> None:
    _hooks.append(hook)


async def run_all() -> None:
    """Every hook at once; one that fails is logged and does not keep the others or the shutdown back."""
    results = await asyncio.gather(*(hook() for hook in _hooks), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            logger.error("a shutdown hook failed", exc_info=result)
