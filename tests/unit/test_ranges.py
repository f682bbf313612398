"""The preview's byte ranges, read from the store: one range answered with 206 (at most a chunk
of it), anything else with the whole object, streamed a chunk at a time."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from gatekeeper.adapters.storage import LocalStore
from web.ranges import ranged

BODY = bytes(range(100))


class CountingStore(LocalStore):
    """A local store that notes how many bytes each read asked for."""

    reads: list[int]

    def get_range(self, key: str, start: int, end: int) -> bytes:
        data = super().get_range(key, start, end)
        self.reads.append(len(data))
        return data

    def get(self, key: str) -> bytes:
        raise AssertionError("a preview is read in ranges, never whole at once")


@pytest.fixture
def store(tmp_path):
    s = CountingStore(tmp_path)
    s.reads = []
    s.put("previews/a.mp4", BODY)
    return s


def _get(store, range_header: str | None, chunk: int = 1 << 20):
    headers = [(b"range", range_header.encode())] if range_header is not None else []
    return ranged(Request({"type": "http", "method": "GET", "headers": headers}), store,
                  "previews/a.mp4", "video/mp4", chunk=chunk)


def _body(response) -> bytes:
    if hasattr(response, "body_iterator"):
        async def collect() -> bytes:
            return b"".join([part async for part in response.body_iterator])
        return asyncio.run(collect())
    return response.body


def test_one_range_is_answered_with_its_bytes(store):
    r = _get(store, "bytes=10-19")
    assert r.status_code == 206 and r.body == BODY[10:20]
    assert r.headers["content-range"] == "bytes 10-19/100"
    assert _get(store, "bytes=90-").body == BODY[90:] and _get(store, "bytes=-5").body == BODY[95:]
    assert _get(store, "bytes=95-500").headers["content-range"] == "bytes 95-99/100"
    assert store.reads == [10, 10, 5, 5]  # only the bytes asked for were read


def test_a_long_range_is_answered_a_chunk_at_a_time(store):
    r = _get(store, "bytes=0-", chunk=16)
    assert r.status_code == 206 and r.body == BODY[:16]
    assert r.headers["content-range"] == "bytes 0-15/100"
    r = _get(store, "bytes=90-99", chunk=16)
    assert r.body == BODY[90:] and r.headers["content-range"] == "bytes 90-99/100"


def test_anything_else_gets_the_whole_object_in_pieces_or_416(store):
    for header in (None, "", "bytes=1-2,5-6", "items=1-2", "bytes=-", "bytes=" + "9" * 5000 + "-"):
        store.reads = []
        r = _get(store, header, chunk=32)
        assert r.status_code == 200 and _body(r) == BODY
        assert r.headers["accept-ranges"] == "bytes" and r.headers["content-length"] == "100"
        assert store.reads == [32, 32, 32, 4]
    r = _get(store, "bytes=100-")
    assert r.status_code == 416 and r.headers["content-range"] == "bytes */100"
    assert _get(store, "bytes=20-10").status_code == 416
