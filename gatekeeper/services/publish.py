"""Publishing: re-check consent on the day, cover, rebuild from pixels, verify, write, record.

Also takes publications down again when they no longer pass the policy (invariant 5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consent_db import audit
from consent_db.models import Approval, Person, Photo, PhotoStatus, Publication, utcnow

from ..errors import GatekeeperError
from ..images import decode
from ..names import names_found
from ..policy import PhotoDecision, Verdict, decide
from ..redact import CoverMode, Region, cover, head_region
from ..rendition import EXTENSIONS, MEDIA_TYPES, encode
from .facts import face_facts, person_facts
from .review import check_channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    photo_id: int
    channel: str
    location: str | None
    refused: str | None = None


def render(*, ctx, photo: Photo, decision: PhotoDecision, data: bytes, channel: str) -> bytes:
    """The exact bytes that would be published for this photo, decision and channel."""
    s = ctx.settings
    img = decode(data, s.max_image_pixels, long_side=s.max_side_for(channel)).pixels
    k = img.width / photo.width  # < 1 when the JPEG was decoded at a reduced scale
    regions = [
        (head_region(*(round(v * k) for v in (f.top, f.right, f.bottom, f.left)),
                     img.width, img.height), True)
        for f in photo.faces if decision.faces.get(f.id) is not Verdict.SHOW
    ]
    regions += [(Region(*(round(v * k) for v in (c.x0, c.y0, c.x1, c.y1))), False)
                for c in photo.covers]
    covered = cover(img, regions, CoverMode(s.cover_mode))
    return encode(covered, s.format_for(channel), s.max_side_for(channel), s.publish_quality)


def public_key(session, photo: Photo, channel: str, ext: str) -> str:
    """Event slug + number; a slug that carries anyone's name is replaced by a neutral one."""
    people = session.execute(select(Person.given_name, Person.family_name)).all()
    slug = photo.event.slug
    if names_found(slug.replace("-", " "), people, channel):
        slug = f"event-{photo.event_id}"
    return f"{slug}-{photo.number:04d}.{ext}"


def _block(uow, photo: Photo, reason: str) -> None:
    photo.status, photo.status_reason = PhotoStatus.BLOCKED.value, reason
    photo.approvals.clear()
    audit.record(uow.session, "photo.blocked", "photo", photo.id, None, reason=reason[:120])


def publish_one(*, ctx, photo_id: int, channel: str, on: date) -> PublishResult:
    """Publish one approved photo on one channel (idempotent: a live publication is kept)."""
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        live = [p for p in photo.publications if p.channel == channel and p.taken_down_at is None]
        if live:
            return PublishResult(photo_id, channel, live[0].location)
        decision = decide(face_facts(photo), person_facts(uow.session, photo), channel, on,
                          ctx.year_start)
        if decision.blocked:
            _block(uow, photo, decision.blocked_reason)
            uow.commit()
            return PublishResult(photo_id, channel, None, decision.blocked_reason)
        try:
            data = render(ctx=ctx, photo=photo, decision=decision, channel=channel,
                          data=ctx.stores.private.get(photo.original_key))
        except Exception as exc:  # fail closed: nothing is published, the photo is blocked
            reason = f"publishing failed ({type(exc).__name__}: {exc})"[:250]
            if not isinstance(exc, GatekeeperError):
                reason = f"publishing failed ({type(exc).__name__})"
            log.warning("publish of photo %s failed: %s", photo_id, type(exc).__name__)
            _block(uow, photo, reason)
            uow.commit()
            return PublishResult(photo_id, channel, None, reason)
        fmt = ctx.settings.format_for(channel)
        key = public_key(uow.session, photo, channel, EXTENSIONS[fmt])
        store = ctx.stores.public[channel]
        store.put(key, data, MEDIA_TYPES[fmt])
        approval = next((a for a in photo.approvals if a.channel == channel), None)
        shown = sorted({f.person_id for f in photo.faces
                        if decision.faces.get(f.id) is Verdict.SHOW and f.person_id})
        pub = Publication(photo_id=photo.id, channel=channel, key=key,
                          location=store.locate(key), shown_person_ids=shown,
                          caption=approval.caption if approval else None)
        uow.session.add(pub)
        try:
            uow.flush()
        except IntegrityError:  # another worker published it first: theirs stands
            uow.session.rollback()
            return publish_one(ctx=ctx, photo_id=photo_id, channel=channel, on=on)
        audit.record(uow.session, "photo.published", "publication", pub.id, None,
                     photo_id=photo.id, channel=channel, shown_person_ids=shown)
        uow.commit()
        return PublishResult(photo_id, channel, pub.location)


def unpublished_approvals(session, channel: str | None = None) -> list[tuple[int, str]]:
    """(photo id, channel) of every approval without a live publication on its channel."""
    live = select(Publication.id).where(
        Publication.photo_id == Approval.photo_id, Publication.channel == Approval.channel,
        Publication.taken_down_at.is_(None))
    query = select(Approval.photo_id, Approval.channel).join(Photo).where(
        Photo.status == PhotoStatus.AWAITING_REVIEW.value, ~live.exists())
    if channel:
        query = query.where(Approval.channel == check_channel(channel))
    return [tuple(r) for r in session.execute(query.order_by(Approval.photo_id, Approval.channel))]


def publish_approved(*, ctx, channel: str | None = None,
                     on: date | None = None) -> list[PublishResult]:
    """Publish every approved photo without a live publication on its channel."""
    on = on or ctx.today()
    with ctx.uow() as uow:
        todo = unpublished_approvals(uow.session, channel)
    return [publish_one(ctx=ctx, photo_id=pid, channel=ch, on=on) for pid, ch in todo]


def take_down(*, ctx, uow, publication: Publication, reason: str) -> None:
    """Delete the public object (every version) and mark the publication taken down."""
    ctx.stores.public[publication.channel].delete(publication.key)
    publication.taken_down_at = utcnow()
    publication.taken_down_reason = reason
    audit.record(uow.session, "publication.taken_down", "publication", publication.id, None,
                 photo_id=publication.photo_id, reason=reason)


def recheck_live(*, ctx, on: date | None = None) -> list[int]:
    """Take down live publications that showing someone no longer allowed; returns their ids."""
    on = on or ctx.today()
    downed: list[int] = []
    with ctx.uow() as uow:
        live = uow.session.scalars(
            select(Publication).where(Publication.taken_down_at.is_(None))).all()
        for pub in live:
            photo = pub.photo
            decision = decide(face_facts(photo), person_facts(uow.session, photo), pub.channel,
                              on, ctx.year_start)
            shown_now = {f.person_id for f in photo.faces
                         if decision.faces.get(f.id) is Verdict.SHOW}
            if decision.blocked:
                take_down(ctx=ctx, uow=uow, publication=pub, reason="blocked")
            elif not set(pub.shown_person_ids or []) <= shown_now:
                take_down(ctx=ctx, uow=uow, publication=pub, reason="consent withdrawn or lapsed")
            else:
                continue
            photo.approvals[:] = [a for a in photo.approvals if a.channel != pub.channel]
            downed.append(pub.id)
        uow.commit()
    return downed
