"""Scanning: find every face, identify against consented templates, decide; fail closed.

Any exception on the way leaves the photo blocked with the kind of error (invariant 3).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Face, Photo, PhotoStatus, utcnow
from gatekeeper.adapters.engine.found import IDENTIFIABLE
from gatekeeper.config import Settings
from gatekeeper.domain.policy import blocked_reason
from gatekeeper.services.consent.gallery import identify_faces, load_gallery
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.photos.depth import search_photo, side_for_scan
from gatekeeper.services.records import get_photo, original_key_of

log = logging.getLogger(__name__)


def pending_photo_ids(session: Session, largest_first: bool = False) -> list[int]:
    """Photos waiting to be scanned, oldest first; or largest first, which spreads a batch
    over several processes evenly (a big photo last would leave the others idle)."""
    order = ((Photo.width * Photo.height).desc(), Photo.id) if largest_first else (Photo.id,)
    return list(session.scalars(
        select(Photo.id).where(Photo.status == PhotoStatus.RECEIVED.value).order_by(*order)
    ))


def claim(*, ctx: Context, photo_id: int) -> bool:
    """Atomically move a photo to `scanning`: from `received`, or from a `scanning` left stuck by
    a dead worker. Exactly one of several racing workers wins."""
    stuck_before = utcnow() - timedelta(seconds=ctx.settings.scan_stuck_after_s)
    with ctx.uow() as uow:
        result = uow.session.execute(
            update(Photo).where(
                Photo.id == photo_id,
                (Photo.status == PhotoStatus.RECEIVED.value)
                | ((Photo.status == PhotoStatus.SCANNING.value)
                   & (Photo.scan_started_at < stuck_before)),
            ).values(status=PhotoStatus.SCANNING.value, scan_started_at=utcnow())
        )
        uow.commit()
        return bool(getattr(result, "rowcount", 0) == 1)


def scan_photo(*, ctx: Context, photo_id: int) -> str:
    """Scan one photo if this worker can claim it; returns the photo's status afterwards."""
    if not claim(ctx=ctx, photo_id=photo_id):
        with ctx.uow() as uow:
            current = uow.session.get(Photo, photo_id)
            return current.status if current else "missing"
    try:
        return _scan(ctx, photo_id)
    except Exception as exc:  # fail closed: whatever broke, the photo is blocked
        log.warning("scan of photo %s failed: %s", photo_id, type(exc).__name__)
        with ctx.uow() as uow:
            photo = get_photo(uow.session, photo_id)
            photo.status = PhotoStatus.BLOCKED.value
            photo.status_reason = f"scan failed ({type(exc).__name__}): blocked"
            audit.record(uow.session, "photo.blocked", "photo", photo_id, None,
                         reason="scan_error", error=type(exc).__name__)
            uow.commit()
        return PhotoStatus.BLOCKED.value


def _scan(ctx: Context, photo_id: int) -> str:
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        data = ctx.stores.private.get(original_key_of(photo))
        gallery = load_gallery(uow.session)
        media = photo.media
        side = side_for_scan(ctx.settings, photo)
    if media == "video":
        from gatekeeper.services.video.scan import find_tracks  # deferred: PyAV

        return _save(ctx, photo_id, find_tracks(ctx=ctx, photo_id=photo_id, data=data,
                                                gallery=gallery))
    # With no template in the gallery nobody can be identified: the encodings (a quarter of a
    # scan) would be thrown away. Nothing keeps them either, so a rescan after enrolment encodes.
    # Faces are searched for the online copy's size; a larger copy waits for the deeper search
    # (depth.py), unless the photo is already approved for one.
    found = search_photo(ctx, data, encode=len(gallery) > 0, side=side)
    usable = [f for f in found if f.encoding is not None]
    matches = identify_faces(usable, gallery, ctx.settings)
    by_face = {id(f): m for f, m in zip(usable, matches, strict=True)}
    rows = []
    for f in found:
        m = by_face.get(id(f))
        rows.append(Face(
            top=f.box.top, right=f.box.right, bottom=f.box.bottom, left=f.box.left,
            score=f.score, rotation=f.rotation, quality=f.quality.value,
            person_id=m.person_id if m else None,
            distance=m.distance if m else None, margin=m.margin if m else None,
            near_person_ids=sorted(m.near_person_ids) if m else [], decided_by="auto",
        ))
    return _save(ctx, photo_id, rows, scan_side=side)


def _save(ctx: Context, photo_id: int, rows: list[Face], scan_side: int | None = None) -> str:
    """Replace the photo's faces (a video's: its tracks) by `rows`, decide, and commit.
    `scan_side`: the largest published side they were searched for (None: every size)."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        photo.scan_side = scan_side
        photo.faces.clear()
        uow.flush()
        photo.faces.extend(rows)
        uow.flush()
        reason = blocked_reason(face_facts(photo), person_facts(uow.session, photo))
        photo.scanned_at = utcnow()
        photo.revision += 1
        if photo.status == PhotoStatus.HELD:
            pass  # held while it was being scanned (its camera deactivated): it stays held
        elif reason is not None:
            photo.status, photo.status_reason = PhotoStatus.BLOCKED.value, reason
        else:
            photo.status, photo.status_reason = PhotoStatus.AWAITING_REVIEW.value, None
        audit.record(
            uow.session, "photo.scanned", "photo", photo.id, None, status=photo.status,
            faces=len(rows), identified=sum(1 for f in rows if f.person_id is not None),
            unidentifiable=sum(1 for f in rows if f.quality not in IDENTIFIABLE),
        )
        uow.commit()
        return photo.status


def scan_pending(*, ctx: Context, processes: int = 1) -> dict[int, str]:
    """Scan every received photo, one unit of work each; returns photo id -> final status.

    With processes > 1 the batch is spread over worker processes, each loading the models once
    and running its BLAS single-threaded so the processes do not fight over cores."""
    with ctx.uow() as uow:
        ids = pending_photo_ids(uow.session, largest_first=processes > 1)
    if processes <= 1 or len(ids) <= 1:
        return {pid: scan_photo(ctx=ctx, photo_id=pid) for pid in ids}
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # read by dlib's BLAS when a worker loads it
    # Forked, not spawned: a worker starts with every module this process already imported
    # (a spawned one spends seconds importing them again). Nothing is shared but code: the
    # face engine loads in each worker, and this process's database connections are closed
    # first so that no worker inherits one; each worker opens its own.
    ctx.engine.dispose()
    with ProcessPoolExecutor(max_workers=min(processes, len(ids)),
                             mp_context=multiprocessing.get_context("fork"),
                             initializer=_init_worker, initargs=(ctx.settings,)) as pool:
        return dict(zip(ids, pool.map(_scan_in_worker, ids), strict=True))


class _PoolWorker:
    """The Context of one scanning pool process, built once by the pool's initializer."""

    ctx: Context | None = None


def _init_worker(settings: Settings) -> None:
    _PoolWorker.ctx = Context(settings)


def _scan_in_worker(photo_id: int) -> str:
    assert _PoolWorker.ctx is not None, "the pool initializer did not run"
    return scan_photo(ctx=_PoolWorker.ctx, photo_id=photo_id)
