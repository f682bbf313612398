"""Accepting uploads: validate by content, dedupe by SHA-256, judge provenance, store, then commit.

Each file is its own unit of work, so one bad file never costs the rest of the batch. The original
is written to the private store before the database commit (invariant 8): a crash in between
leaves at worst an unreferenced object, never a row without its original.
"""

from __future__ import annotations

import hashlib
import random
import time
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Event, Photo, PhotoStatus
from gatekeeper.config import Settings
from gatekeeper.domain.camera import CameraInfo, Provenance, judge_provenance, read_camera_info
from gatekeeper.domain.images import DecodedImage, decode
from gatekeeper.domain.movie import (
    MovieInfo,
    as_played,
    codec_refusal,
    read_movie,
    refusal,
    sniff,
)
from gatekeeper.domain.names import slugify
from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import InvalidImage, InvalidInput, NotAnImage
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.context import Context
from gatekeeper.services.photos.devices import registered_serials
from gatekeeper.services.photos.pictures import review_key, review_rendition
from gatekeeper.services.stages import LABELS, stage_of


class IngestOutcome(StrEnum):
    ACCEPTED = "accepted"
    HELD = "held"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class IngestResult:
    name: str
    outcome: IngestOutcome
    photo_id: int | None = None
    reason: str | None = None
    by_someone_else: bool = False  # a duplicate of a colleague's upload (their page is not ours)
    stage: str | None = None  # a duplicate's stage now, in words


def _duplicate(name: str, existing: Photo, actor_id: int | None) -> IngestResult:
    """A file already uploaded: by this user (My uploads has it) or by a colleague, whose
    upload this user may not open; both are told the photo's stage, so nothing is a dead end."""
    mine = existing.uploaded_by_id == actor_id
    stage = LABELS[stage_of(existing).stage]
    return IngestResult(name, IngestOutcome.DUPLICATE, existing.id,
                        f"already ingested as photo {existing.id}" if mine else
                        f"already uploaded by a colleague as photo {existing.id}, now {stage}",
                        by_someone_else=not mine, stage=stage)


def original_key(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}"


MAX_EVENT_NAME = 200


def clean_event_name(name: str) -> str:
    """The event name with runs of spaces collapsed, or InvalidInput saying what is wrong."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name if ch not in "\t\n\r"):
        raise InvalidInput("an event name may not contain control characters")
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an event name is needed")
    if len(name) > MAX_EVENT_NAME:
        raise InvalidInput(f"an event name has at most {MAX_EVENT_NAME} characters")
    return name


def get_or_create_event(session: Session, name: str, actor_id: int | None) -> Event:
    name = clean_event_name(name)
    event = session.scalar(select(Event).where(Event.name == name))
    if event is None:
        base = slugify(name)
        slug, n = base, 2
        while session.scalar(select(Event).where(Event.slug == slug)):
            slug, n = f"{base}-{n}", n + 1
        event = Event(name=name, slug=slug, next_number=1)
        session.add(event)
        session.flush()
        audit.record(session, "event.created", "event", event.id, actor_id)
    return event


NOT_UPLOADABLE = ("not a photo or video Gatekeeper takes (JPEG, PNG, WebP, HEIC or TIFF; "
                  "MP4, MOV or M4V)")


def too_large(size: int, limit: int) -> str:
    """Why a file over the upload limit is refused, in the sizes people know (a camera's
    video passes 60 MB in half a minute), with what to do."""
    return (f"file too large ({size / 1e6:,.1f} MB; the upload limit is {limit / 1e6:,.1f} MB, "
            f"{limit:,} bytes): trim a video to the part to publish, or ask whoever runs "
            "Gatekeeper to raise GATEKEEPER_MAX_UPLOAD_BYTES")


def ingest_bytes(*, ctx: Context, data: bytes, name: str, event_name: str,
                 actor_id: int | None) -> IngestResult:
    """Ingest one upload; never raises for a bad file, reports it in the result instead.

    Everything that can refuse the upload is checked before the original is stored, and a
    failure after storing removes it again: no original is ever left without its row."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.OFFICE, Role.DPO))
    event_name = clean_event_name(event_name)
    if len(data) > ctx.settings.max_upload_bytes:  # the same words at every door
        return IngestResult(name, IngestOutcome.REJECTED, reason=too_large(
            len(data), ctx.settings.max_upload_bytes))
    sha = hashlib.sha256(data).hexdigest()
    with ctx.uow() as uow:
        existing = uow.session.scalar(select(Photo).where(Photo.sha256 == sha))
        if existing is not None:
            return _duplicate(name, existing, actor_id)
    movie: MovieInfo | None = None
    try:
        if sniff(data) is not None:
            movie, decoded = open_video(data, ctx.settings)
        else:
            decoded = decode(data, ctx.settings.max_image_pixels)
    except NotAnImage:  # an upload may be a video too: say so when it is neither
        return IngestResult(name, IngestOutcome.REJECTED, reason=NOT_UPLOADABLE)
    except InvalidImage as exc:
        return IngestResult(name, IngestOutcome.REJECTED, reason=str(exc))
    info = movie.camera if movie is not None else read_camera_info(data)
    key = original_key(sha)
    review = review_rendition(decoded.pixels)  # the reviewer's copy: never decoded again
    ctx.stores.private.put(key, data)
    ctx.stores.private.put(review_key(sha), review, "image/jpeg")
    try:
        result = _record_with_retry(ctx, data=data, sha=sha, key=key, name=name,
                                    event_name=event_name, decoded=decoded, info=info,
                                    movie=movie, actor_id=actor_id)
    except BaseException:
        with ctx.uow() as uow:  # no original without its row (unless a twin upload owns it)
            if uow.session.scalar(select(Photo.id).where(Photo.sha256 == sha)) is None:
                ctx.stores.private.delete(key)
                ctx.stores.private.delete(review_key(sha))
        raise
    if result.outcome is IngestOutcome.ACCEPTED and result.photo_id is not None:
        ctx.jobs.scan(result.photo_id)
    return result


def open_video(data: bytes, settings: Settings) -> tuple[MovieInfo, DecodedImage]:
    """The movie's facts (its length, rate and size as the picture stream plays), within the
    limits, and its middle frame (the reviewer's picture; decoding it proves the picture stream
    decodes); InvalidImage otherwise."""
    from gatekeeper.adapters.video import played, still  # deferred: PyAV only where videos come

    header = read_movie(data)
    if (codec := codec_refusal(header)) is not None:
        raise InvalidImage(codec)
    plays = played(data)
    movie = as_played(header, plays.frames, plays.seconds, (plays.coded_width, plays.coded_height),
                      plays.pixel_aspect)
    reason = refusal(movie, max_seconds=settings.video_max_seconds,
                     max_side=settings.video_max_side, max_pixels=settings.video_max_pixels)
    if reason is not None:
        raise InvalidImage(reason)
    frame = still(data, movie.duration_s / 2, movie.width, movie.height)
    return movie, DecodedImage(Image.fromarray(frame), movie.format, None)


RECORD_ATTEMPTS = 12  # one per rival upload that may take the same number first


def _record_with_retry(ctx: Context, **kwargs: Any) -> IngestResult:
    """Record the upload; a race with a simultaneous upload is settled by looking again: the
    same file is a duplicate; the first photo of the same new event, or the same number in an
    event (the database's unique (event, number) refused it), is recorded again afresh, after a
    short random pause so that the rivals do not collide once more."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            return _record(ctx, **kwargs)
        except IntegrityError:
            with ctx.uow() as uow:
                existing = uow.session.scalar(select(Photo).where(Photo.sha256 == kwargs["sha"]))
                if existing is not None:
                    return _duplicate(kwargs["name"], existing, kwargs["actor_id"])
            if attempt == RECORD_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
    raise AssertionError("unreachable")


def _record(ctx: Context, *, data: bytes, sha: str, key: str, name: str, event_name: str,
            decoded: DecodedImage, info: CameraInfo, movie: MovieInfo | None,
            actor_id: int | None) -> IngestResult:
    with ctx.uow() as uow:
        provenance = judge_provenance(info, registered_serials(uow.session))
        held = provenance is not Provenance.SCHOOL_DEVICE
        event = get_or_create_event(uow.session, event_name, actor_id)
        photo = Photo(
            sha256=sha, event_id=event.id, number=event.next_number, original_key=key,
            original_filename=name[-255:], format=decoded.format, width=decoded.pixels.width,
            height=decoded.pixels.height, orientation=decoded.orientation_tag or 0, taken_at=info.taken_at,
            camera_make=info.make, camera_model=info.model, camera_serial=info.serial,
            provenance=provenance.value,
            status=(PhotoStatus.HELD if held else PhotoStatus.RECEIVED).value,
            status_reason=f"held: {provenance.value.replace('_', ' ')}" if held else None,
            uploaded_by_id=actor_id, media="video" if movie else "photo",
            duration_s=movie.duration_s if movie else None, fps=movie.fps if movie else None,
            frame_count=movie.frame_count if movie else None,
        )
        event.next_number += 1
        uow.session.add(photo)
        uow.flush()
        audit.record(uow.session, "photo.ingested", "photo", photo.id, actor_id,
                     provenance=provenance.value, status=photo.status, media=photo.media)
        uow.commit()
        outcome = IngestOutcome.HELD if held else IngestOutcome.ACCEPTED
        return IngestResult(name, outcome, photo.id, photo.status_reason)
