"""One byte range of a stored object (HTTP 206), so a browser's video player can seek in a
preview without the whole file being read for each request; anything but a single `bytes=`
range gets the whole object, streamed in pieces (RFC 9110 allows it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from gatekeeper.adapters.storage import ObjectStore

_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")  # longer numbers: no usable range
# At most this many bytes in one 206 answer (a player asks for the rest as it plays) and in one
# read of a whole body: a ten-minute preview is tens of MB.
CHUNK = 4 * 1024 * 1024


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | Literal[False]:
    """(first, last) byte of the one range asked for; None: no usable range (the whole body);
    False: a range that lies beyond the object (416)."""
    m = _RANGE.fullmatch((header or "").strip())
    if m is None or not (m[1] or m[2]):
        return None
    if m[1]:
        start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
    else:  # the last n bytes
        start, end = max(0, size - int(m[2])), size - 1
    if start >= size or start > end:
        return False
    return start, end


def ranged(request: Request, store: ObjectStore, key: str, media_type: str,
           headers: dict[str, str] | None = None, *, chunk: int = CHUNK) -> Response:
    """The stored object `key`: the range the request asks for (at most `chunk` bytes of it),
    or the whole object streamed `chunk` bytes at a time."""
    size = store.size(key)
    base = {**(headers or {}), "Accept-Ranges": "bytes"}
    asked = byte_range(request.headers.get("range"), size)
    if asked is None:
        def pieces() -> Iterator[bytes]:
            for start in range(0, size, chunk):
                yield store.get_range(key, start, min(size, start + chunk) - 1)

        return StreamingResponse(pieces(), media_type=media_type,
                                 headers={**base, "Content-Length": str(size)})
    if asked is False:
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    start, end = asked[0], min(asked[1], asked[0] + chunk - 1)
    return Response(store.get_range(key, start, end), status_code=206, media_type=media_type,
                    headers={**base, "Content-Range": f"bytes {start}-{end}/{size}"})
