"""A small in-process cache of rendered review media (track thumbnails).

Kept in memory on purpose, never in a store: a face crop outlives no process, so a purged or
erased video leaves none behind (the covered previews, minutes of rendering, are kept in the
private store instead and deleted with the video: `previews`). Bounded by bytes, least recently
used out first; one entry per `slot` (a new rendering of a slot drops the old one)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class Memo:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, slot: Hashable, state: Hashable) -> bytes | None:
        """The bytes rendered for `slot` in `state`, or None (an older state's are not used)."""
        with self._lock:
            item = self._items.get(slot)
            if item is None or item[0] != state:
                return None
            self._items.move_to_end(slot)
            return item[1]

    def put(self, slot: Hashable, state: Hashable, data: bytes) -> None:
        with self._lock:
            old = self._items.pop(slot, None)
            if old is not None:
                self._size -= len(old[1])
            if len(data) > self.max_bytes:
                return
            self._items[slot] = (state, data)
            self._size += len(data)
            while self._size > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= len(dropped)
