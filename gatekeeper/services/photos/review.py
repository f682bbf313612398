"""The editor's and DPO's decisions: approve per channel, reject, release held photos, fix faces.

A correction (a face named or a rectangle covered) bumps the photo's revision: live copies made
from an older revision are re-rendered by the sweep, covering at least as much (see publish).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Approval, Face, ManualCover, Person, Photo, PhotoStatus
from gatekeeper.domain.names import names_found
from gatekeeper.domain.policy import blocked_reason
from gatekeeper.domain.spans import frames_span_ms
from gatekeeper.domain.vocabulary import Channel, NameRule, Role
from gatekeeper.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from gatekeeper.services import rechecks
from gatekeeper.services.accounts.users import Actor, require_role
from gatekeeper.services.consent.enrol import confirmable_person
from gatekeeper.services.consent.safeguarding import redecide_block
from gatekeeper.services.consent.templates import drop_contradicted
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.photos.ingest import original_key
from gatekeeper.services.photos.pictures import review_key
from gatekeeper.services.records import get_photo
from gatekeeper.services.video.previews import previews_prefix

REVIEWERS = (Role.EDITOR, Role.DPO)


def find_person(session: Session, text: str) -> Person:
    """The person with this external id, or the one person on roll whose name matches every word
    typed ("Rosie", "Rosie Bell"); otherwise a message saying how to be precise."""
    text = text.strip()
    person = session.scalar(select(Person).where(Person.external_id == text))
    if person is not None:
        return person
    query = select(Person).where(Person.left_on.is_(None))
    for word in text.split():
        like = f"%{word}%"
        query = query.where(or_(Person.given_name.ilike(like), Person.family_name.ilike(like)))
    matches = session.scalars(query.limit(2)).all()
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(f"more than one person matches {text!r}: type more of the name or "
                           "pick them from the list (it shows their UPN)")
    raise NotFound(f"no one on roll called {text!r} and no UPN {text!r}",
                   field="external_id")  # what was typed: a page shows it beside the box


def check_caption(session: Session, caption: str | None, channel: Channel,
                  rule: NameRule) -> str | None:
    """Refuse (never rewrite) a caption that names anyone as the channel forbids."""
    if not caption or not caption.strip():
        return None
    people = session.execute(select(Person.given_name, Person.family_name)).all()
    reasons = names_found(caption, people, rule)
    if reasons:
        raise InvalidInput(f"caption refused for {channel}: it contains {' and '.join(reasons)}"
                           " of someone on the school's roll", field="caption")
    return caption.strip()


@dataclass(frozen=True)
class Approved:
    photo_id: int
    channels: tuple[Channel, ...]


def approve(*, ctx: Context, photo_id: int, channels: list[Channel], user: Actor,
            caption: str | None = None) -> Approved:
    """Approve a reviewed photo for channels and queue its publication; never by its uploader
    (separation of duties). The same from the page, the API and the CLI."""
    require_role(user, *REVIEWERS)
    if not channels:
        raise InvalidInput("tick at least one channel to approve")
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if photo.uploaded_by_id == user.id:
            raise PermissionDenied(f"photo {photo_id} was uploaded by {user.username}, "
                                   "who therefore cannot approve it")
        if photo.status != PhotoStatus.AWAITING_REVIEW:
            raise InvalidState(f"photo {photo_id} is {photo.status}, not awaiting review")
        facts, people = face_facts(photo), person_facts(uow.session, photo)
        reason = blocked_reason(facts, people)
        if reason is not None:
            raise InvalidState(f"photo {photo_id} is blocked: {reason}")
        try:
            for channel in channels:
                clean = check_caption(uow.session, caption, channel,
                                      ctx.settings.channel_rule(channel).names)
                if any(a.channel == channel for a in photo.approvals):
                    continue
                uow.session.add(Approval(photo_id=photo.id, channel=channel.value,
                                         approved_by_id=user.id, caption=clean))
                uow.flush()
                audit.record(uow.session, "photo.approved", "photo", photo.id, user.id,
                             channel=channel.value)
            uow.commit()
        except IntegrityError:  # another reviewer approved the same channel a moment earlier
            raise InvalidState(f"photo {photo_id} was approved by someone else meanwhile: "
                               "reload the page") from None
    for channel in channels:
        ctx.jobs.publish(photo_id, channel)
    return Approved(photo_id, tuple(channels))


def reject(*, ctx: Context, photo_id: int, reason: str, user: Actor) -> None:
    """Reject a photo for good (any state but purged); its approvals go."""
    require_role(user, *REVIEWERS)
    if not reason.strip():
        raise InvalidInput("say why the photo is rejected")
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if photo.status == PhotoStatus.PURGED:
            raise InvalidState(f"photo {photo_id} is purged")
        photo.status = PhotoStatus.REJECTED.value
        photo.status_reason = f"rejected: {reason.strip()[:500]}"
        photo.approvals.clear()
        audit.record(uow.session, "photo.rejected", "photo", photo.id, user.id)
        rechecks.mark(uow.session, [photo.id], "rejected")  # its live copies come down
        uow.commit()
    ctx.jobs.reconcile([photo_id])


def release(*, ctx: Context, photo_id: int, user: Actor) -> None:
    """A DPO releases a held photo (provenance not proven) to be scanned."""
    require_role(user, Role.DPO)
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if photo.status != PhotoStatus.HELD:
            raise InvalidState(f"photo {photo_id} is {photo.status}, not held")
        photo.status, photo.status_reason = PhotoStatus.RECEIVED.value, None
        audit.record(uow.session, "photo.released", "photo", photo.id, user.id)
        uow.commit()
    ctx.jobs.scan(photo_id)


def identify_face(*, ctx: Context, face_id: int, external_id: str | None, user: Actor) -> None:
    """The editor names a face's person (or None: unknown, stays covered); approvals reset.
    With the DPO's option on, the face is handed to a worker to become a template of that person
    (see enrol.add_confirmed_template); a template made from it for someone else goes."""
    require_role(user, *REVIEWERS)
    with ctx.uow() as uow:
        face = uow.session.get(Face, face_id)
        if face is None:
            raise NotFound(f"no face {face_id}")
        person = find_person(uow.session, external_id) if external_id else None
        face.person_id = person.id if person else None
        face.decided_by = "editor"
        photo = face.photo
        photo.approvals.clear()
        photo.revision += 1
        uow.flush()
        others = drop_contradicted(uow.session, face, user.id)
        redecide_block(uow.session, photo, user.id)
        audit.record(uow.session, "face.identified", "face", face.id, user.id,
                     photo_id=face.photo_id, person_id=face.person_id)
        to_template = confirmable_person(uow.session, face, None, ctx.today(),
                                         ctx.year_start) is not None
        dirty = rechecks.mark(uow.session, [photo.id], "identification") | others
        uow.commit()
    ctx.jobs.reconcile(sorted(dirty))
    if to_template:
        ctx.jobs.confirmed_template(face_id, user.id)


def _span_ms(photo: Photo, span: tuple[float, float]) -> tuple[int, int]:
    """A cover's time span in whole milliseconds (an end past the video's covers to its end);
    a clear message for a span that is empty, negative or starts after the video."""
    if photo.media != "video":
        raise InvalidInput(f"photo {photo.id} is a still photo: a cover there has no time span")
    start, end = span
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise InvalidInput("a cover's time span runs from a start to a later end, in seconds "
                           "from the beginning of the video")
    length = photo.duration_s or 0.0
    if length and start >= length:
        raise InvalidInput(f"the cover starts at {start:g} s, after the video ends "
                           f"({length:.2f} s)")
    return math.floor(start * 1000), math.ceil(end * 1000)


def add_cover(*, ctx: Context, photo_id: int, box: tuple[int, int, int, int], user: Actor,
              span: tuple[float, float] | None = None,
              face_id: int | None = None) -> tuple[int, int, int, int]:
    """An extra rectangle (x0, y0, x1, y1) to cover: a missed face, a name badge, a screen.
    On a video, `span` (start, end in seconds) keeps it to the frames on screen in that time;
    without one it covers every frame. Live copies are re-rendered with it by the next sweep."""
    require_role(user, *REVIEWERS)
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        x0, x1 = sorted(min(max(v, 0), photo.width) for v in (box[0], box[2]))
        y0, y1 = sorted(min(max(v, 0), photo.height) for v in (box[1], box[3]))
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise InvalidInput(f"the cover rectangle lies outside the photo "
                               f"({photo.width}x{photo.height} pixels)")
        start_ms, end_ms = _span_ms(photo, span) if span is not None else (None, None)
        cover = ManualCover(photo_id=photo.id, x0=x0, y0=y0, x1=x1, y1=y1,
                            start_ms=start_ms, end_ms=end_ms, face_id=face_id)
        photo.covers.append(cover)
        photo.approvals.clear()
        photo.revision += 1
        uow.flush()
        audit.record(uow.session, "photo.cover_added", "photo", photo.id, user.id, cover=cover.id,
                     **({"start_ms": start_ms, "end_ms": end_ms} if span is not None else {}))
        rechecks.mark(uow.session, [photo.id], "cover")
        uow.commit()
    ctx.jobs.reconcile([photo_id])
    return (x0, y0, x1, y1)


def cover_track(*, ctx: Context, face_id: int, user: Actor) -> tuple[int, int, int, int]:
    """Cover a face for good, whoever it is: in a photo, its box; in a video, its track (a cover
    that names the track, so publishing covers it wherever it moves, and no fixed rectangle
    where it stood on its best frame: a consented pupil passing that spot later stays shown;
    the rectangle and span are kept only for a rescan that replaces the track). The same path
    as any cover."""
    require_role(user, *REVIEWERS)
    with ctx.uow() as uow:
        face = uow.session.get(Face, face_id)
        if face is None:
            raise NotFound(f"no face {face_id}")
        photo = face.photo
        box = (face.left, face.top, face.right, face.bottom)
        frames = [int(r[0]) for r in face.frames or []]
        span = None
        if photo.media == "video" and frames and photo.fps:
            start_ms, end_ms = frames_span_ms(min(frames), max(frames), photo.fps)
            span = (start_ms / 1000, end_ms / 1000)
        photo_id = photo.id
        track = face_id if photo.media == "video" and frames else None
    return add_cover(ctx=ctx, photo_id=photo_id, box=box, user=user, span=span, face_id=track)


def remove_cover(*, ctx: Context, photo_id: int, cover_id: int, user: Actor) -> None:
    """Take back a hand-drawn cover (drawn by mistake). Approvals reset, as with add_cover;
    refused while a copy is live, since the live copy would then show more."""
    require_role(user, *REVIEWERS)
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        cover = next((c for c in photo.covers if c.id == cover_id), None)
        if cover is None:
            raise NotFound(f"photo {photo_id} has no cover {cover_id}")
        if any(p.taken_down_at is None for p in photo.publications):
            raise InvalidState(f"photo {photo_id} is published: a cover cannot be removed from "
                               "a live copy (it would show more)")
        box = [cover.x0, cover.y0, cover.x1, cover.y1]
        photo.covers.remove(cover)
        photo.approvals.clear()
        photo.revision += 1
        uow.flush()
        audit.record(uow.session, "photo.cover_removed", "photo", photo.id, user.id,
                     cover=cover_id, box=box)
        uow.commit()


DELETED = "deleted by the DPO"


def delete_held(*, ctx: Context, photo_id: int, reason: str, user: Actor) -> None:
    """The DPO deletes a held photo outright (a personal phone's, say): releasing or rejecting
    would keep the original. The row stays as purged, without file name or serial, so the audit
    trail and the SHA-256 (a later upload of the same file) still point somewhere.

    The original and its review copy leave the private store only after the commit: a failure
    on the way leaves the held photo as it was, or the deleted row with files that calling this
    again removes (their keys follow from the SHA-256)."""
    require_role(user, Role.DPO)
    if not reason.strip():
        raise InvalidInput("say why the photo is deleted")
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        again = photo.status == PhotoStatus.PURGED and (photo.status_reason or "").startswith(
            DELETED)
        if photo.status != PhotoStatus.HELD and not again:
            raise InvalidState(f"photo {photo_id} is {photo.status}, not held: only a held "
                               "photo is deleted here (reject any other)")
        if any(p.taken_down_at is None for p in photo.publications):
            raise InvalidState(f"photo {photo_id} still has live copies: they are taken down "
                               "first (recheck)")
        doomed = [review_key(photo.sha256), photo.original_key or original_key(photo.sha256)]
        previews = previews_prefix(photo.sha256)  # a held video has none, but if it had
        if not again:
            photo.faces.clear()
            photo.covers.clear()
            photo.approvals.clear()
            photo.original_key = photo.original_filename = photo.camera_serial = None
            photo.status = PhotoStatus.PURGED.value
            photo.status_reason = f"{DELETED}: {reason.strip()[:500]}"
            audit.record(uow.session, "photo.deleted", "photo", photo.id, user.id,
                         was="held", objects=len(doomed))
            uow.commit()
    doomed += list(ctx.stores.private.keys(previews))
    for key in doomed:  # after the commit: nothing points at them any more
        ctx.stores.private.delete(key)
