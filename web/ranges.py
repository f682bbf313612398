"""One byte range of an in-memory body (HTTP 206), so a browser's video player can seek in a
preview; anything but a single `bytes=` range gets the whole body (RFC 9110 allows it)."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import Response

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def ranged(request: Request, data: bytes, media_type: str,
           headers: dict[str, str] | None = None) -> Response:
    base = {**(headers or {}), "Accept-Ranges": "bytes"}
    m = _RANGE.fullmatch((request.headers.get("range") or "").strip())
    if m is None or not (m[1] or m[2]):
        return Response(data, media_type=media_type, headers=base)
    size = len(data)
    if m[1]:
        start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
    else:  # the last n bytes
        start, end = max(0, size - int(m[2])), size - 1
    if start >= size or start > end:
        return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    return Response(data[start:end + 1], status_code=206, media_type=media_type,
                    headers={**base, "Content-Range": f"bytes {start}-{end}/{size}"})
