"""Turning form fields and uploads into the services' types, with clear refusals."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, UploadFile

from gatekeeper.domain.spans import clock_seconds
from gatekeeper.domain.vocabulary import Channel, parse_channel
from gatekeeper.errors import InvalidInput, TooLarge

MAX_ID = 2_147_483_647  # database integer ids: larger numbers name nothing
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="a record id")]


def channels_from(values: list[str] | None) -> list[Channel]:
    if not values:
        raise InvalidInput("tick at least one channel to approve", field="channel")
    try:
        return [parse_channel(v) for v in values]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def day_from(text: str, example: str = "2026-09-10", field: str | None = None) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"a date must look like {example}, not {text!r}",
                           field=field) from None


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The whole upload, or TooLarge: never cut short silently."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{upload.filename or 'the file'} is larger than {limit:,} bytes")
    return data


def span_from(start: str, end: str) -> tuple[float, float] | None:
    """A cover's time span from two fields in seconds ("12", "12.5", "1:05" for a minute and
    5 s); both empty: no span (every frame); one empty or not a time: a clear refusal."""
    if not start.strip() and not end.strip():
        return None
    if not start.strip() or not end.strip():
        raise InvalidInput("give both the start and the end of the time span, or neither "
                           "(to cover every frame)")
    return clock_seconds(start), clock_seconds(end)


