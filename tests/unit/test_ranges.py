"""The preview's byte ranges: one range answered with 206, anything else with the whole body."""

from __future__ import annotations

from starlette.requests import Request

from web.ranges import ranged

BODY = bytes(range(100))


def _get(range_header: str | None):
    headers = [(b"range", range_header.encode())] if range_header is not None else []
    return ranged(Request({"type": "http", "method": "GET", "headers": headers}), BODY,
                  "video/mp4")


def test_one_range_is_answered_with_its_bytes():
    r = _get("bytes=10-19")
    assert r.status_code == 206 and r.body == BODY[10:20]
    assert r.headers["content-range"] == "bytes 10-19/100"
    assert _get("bytes=90-").body == BODY[90:] and _get("bytes=-5").body == BODY[95:]
    assert _get("bytes=95-500").headers["content-range"] == "bytes 95-99/100"


def test_anything_else_gets_the_whole_body_or_416():
    for header in (None, "", "bytes=1-2,5-6", "items=1-2", "bytes=-"):
        r = _get(header)
        assert r.status_code == 200 and r.body == BODY and r.headers["accept-ranges"] == "bytes"
    r = _get("bytes=100-")
    assert r.status_code == 416 and r.headers["content-range"] == "bytes */100"
    assert _get("bytes=20-10").status_code == 416
