"""Heavy work (decoding, hashing, CSV parsing, password hashing, a service's transaction) runs
in a small bounded pool of threads, never on the event loop: other users' requests keep flowing,
and memory stays bounded. This is the web app's one way to offload blocking work (a test holds
every route to it: no asyncio.to_thread, run_in_threadpool or executor of its own)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
P = ParamSpec("P")
_limiter: anyio.CapacityLimiter | None = None
HEAVY_WORKERS = 2


def _heavy_limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:  # created lazily: a limiter belongs to the running event loop's library
        _limiter = anyio.CapacityLimiter(HEAVY_WORKERS)
    return _limiter


async def offload(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` in the bounded pool and wait for it (arguments type-checked
    against `fn`)."""
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=_heavy_limiter())
