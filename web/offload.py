"""Heavy work (decoding, hashing, CSV parsing) runs in a small bounded pool of threads, never
on the event loop: other users' requests keep flowing, and memory stays bounded."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
_limiter: anyio.CapacityLimiter | None = None
HEAVY_WORKERS = 2


def _heavy_limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:  # created lazily: a limiter belongs to the running event loop's library
        _limiter = anyio.CapacityLimiter(HEAVY_WORKERS)
    return _limiter


async def offload(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `fn(**kwargs)` in the bounded pool and wait for it."""
    return await anyio.to_thread.run_sync(partial(fn, **kwargs), limiter=_heavy_limiter())
