"""Publishing: re-check consent on the day, cover, rebuild from pixels, verify, write, record.

Taking down, and re-rendering a live copy after a change of fact, is `live`'s job; both use the
same render, so a live copy always equals what publishing the approved photo now would produce.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Approval, Person, Photo, PhotoStatus, Publication, utcnow
from gatekeeper.domain.images import decode
from gatekeeper.domain.names import slug_names_someone
from gatekeeper.domain.policy import PhotoDecision, Verdict, decide
from gatekeeper.domain.redact import Region, cover, head_region
from gatekeeper.domain.rendition import EXTENSIONS, MEDIA_TYPES, encode
from gatekeeper.domain.vocabulary import Channel, CoverMode
from gatekeeper.errors import GatekeeperError, InvalidState
from gatekeeper.services import outbox
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.photos.depth import deepen, require_searched_for
from gatekeeper.services.video.sound import keeps_sound  # and its options, on the page

log = logging.getLogger(__name__)
CONSENT_LOST = "consent withdrawn or lapsed"  # the photo returns to review, them covered


@dataclass(frozen=True)
class PublishResult:
    photo_id: int
    channel: Channel
    location: str | None
    refused: str | None = None


def render(*, ctx: Context, photo: Photo, decision: PhotoDecision, data: bytes,
           channel: Channel, covers: list[Region] | None = None,
           keep_sound: bool | None = None) -> bytes:
    """The exact bytes that would be published for this photo, decision and channel.
    `covers`: the editors' rectangles to use instead of the photo's own (subject access);
    `keep_sound`: False drops a video's sound whatever the channel's option says."""
    if photo.media == "video":
        from gatekeeper.services.video.publish import render_video  # deferred: PyAV

        return render_video(ctx=ctx, photo=photo, decision=decision, data=data,
                            channel=channel, covers=covers, keep_sound=keep_sound)
    s, rule = ctx.settings, ctx.settings.channel_rule(channel)
    img = decode(data, s.max_image_pixels, long_side=rule.max_side).pixels
    k = img.width / photo.width  # < 1 when the JPEG was decoded at a reduced scale
    regions = [
        (head_region(round(f.top * k), round(f.right * k), round(f.bottom * k),
                     round(f.left * k), img.width, img.height), True)
        for f in photo.faces if decision.faces.get(f.id) is not Verdict.SHOW
    ]
    boxes = covers if covers is not None else [
        Region(c.x0, c.y0, c.x1, c.y1) for c in photo.covers]
    regions += [(Region(*(round(v * k) for v in (b.x0, b.y0, b.x1, b.y1))), False)
                for b in boxes]
    covered = cover(img, regions, s.cover_mode)
    return encode(covered, rule.image_format.value, rule.max_side, s.publish_quality)


def preview(*, ctx: Context, photo_id: int, channel: Channel) -> bytes:
    """Exactly what publishing today would write for this channel (publish's own render)."""
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        if photo is None or photo.original_key is None:
            raise InvalidState(f"photo {photo_id} has no stored image to preview")
        if photo.media == "video":  # minutes of decoding and encoding: a worker's job
            raise InvalidState(f"video {photo_id} is previewed by a worker: see "
                               f"/photos/{photo_id}/video/{channel.value}")
        decision = decide(face_facts(photo), person_facts(uow.session, photo), channel,
                          ctx.today(), ctx.year_start)
        if decision.blocked:
            raise InvalidState(f"photo {photo_id} is blocked: {decision.blocked_reason}")
        return render(ctx=ctx, photo=photo, decision=decision, channel=channel,
                      data=ctx.stores.private.get(photo.original_key))


def public_key(session: Session, photo: Photo, ext: str) -> str:
    """Event slug, number and a random part: unique by construction and not guessable. A slug
    that carries anyone's family name is replaced by a neutral one, on every channel."""
    people = session.execute(select(Person.given_name, Person.family_name)).all()
    slug = photo.event.slug
    if slug_names_someone(slug, people):
        slug = "event"
    return f"{slug}-{photo.number:04d}-{secrets.token_hex(5)}.{ext}"


def _block(session: Session, photo: Photo, reason: str) -> None:
    photo.status, photo.status_reason = PhotoStatus.BLOCKED.value, reason
    photo.approvals.clear()
    audit.record(session, "photo.blocked", "photo", photo.id, None, reason=reason[:120])


def _live(photo: Photo, channel: Channel) -> Publication | None:
    return next((p for p in photo.publications
                 if p.channel == channel and p.taken_down_at is None), None)


def write_copy(ctx: Context, session: Session, photo: Photo, channel: Channel,
           decision: PhotoDecision, caption: str | None,
           replaces: Publication | None) -> Publication:
    """Render, write a new public object and record it; a replaced copy is taken down."""
    assert photo.original_key is not None
    require_searched_for(ctx.settings, photo, channel)  # fail closed: no copy larger than searched
    sound = keeps_sound(ctx=ctx, channel=channel) if photo.media == "video" else None
    data = render(ctx=ctx, photo=photo, decision=decision, channel=channel,
                  data=ctx.stores.private.get(photo.original_key), keep_sound=sound)
    fmt = ctx.settings.channel_rule(channel).image_format.value
    ext, media_type = (("mp4", "video/mp4") if photo.media == "video"
                       else (EXTENSIONS[fmt], MEDIA_TYPES[fmt]))
    key = public_key(session, photo, ext)
    store = ctx.stores.public[channel]
    store.put(key, data, media_type)
    if replaces is not None:
        take_down(ctx=ctx, session=session, publication=replaces, reason="replaced by a corrected copy")
        session.flush()
    shown = sorted({f.person_id for f in photo.faces
                    if decision.faces.get(f.id) is Verdict.SHOW and f.person_id})
    pub = Publication(photo_id=photo.id, channel=channel.value, key=key,
                      location=store.locate(key), shown_person_ids=shown, caption=caption,
                      revision=photo.revision, cover_mode=ctx.settings.cover_mode.value,
                      sound=sound)
    session.add(pub)
    try:
        session.flush()
    except BaseException:
        store.delete(key)  # nothing public without its row
        raise
    audit.record(session, "photo.published", "publication", pub.id, None, photo_id=photo.id,
                 channel=channel.value, shown_person_ids=shown,
                 replaces=replaces.id if replaces else None)
    return pub


def publish_one(*, ctx: Context, photo_id: int, channel: Channel, on: date) -> PublishResult:
    """Publish one approved photo on one channel. Idempotent: a live copy of the photo's current
    revision is kept; one of an older revision is replaced. A channel published larger than
    the photo's faces were searched for gets the deeper search first (depth.py)."""
    deepen(ctx=ctx, photo_id=photo_id, channel=channel)
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        if photo is None or photo.original_key is None:
            return PublishResult(photo_id, channel, None, "no such photo")
        live = _live(photo, channel)
        if live is not None and not stale(ctx, photo, live):
            return PublishResult(photo_id, channel, live.location)
        approval = next((a for a in photo.approvals if a.channel == channel), None)
        if approval is None or photo.status != PhotoStatus.AWAITING_REVIEW:
            return PublishResult(photo_id, channel, None, "not approved for this channel")
        decision = decide(face_facts(photo), person_facts(uow.session, photo), channel, on,
                          ctx.year_start)
        if decision.blocked_reason is not None:
            _block(uow.session, photo, decision.blocked_reason)
            uow.commit()
            return PublishResult(photo_id, channel, None, decision.blocked_reason)
        try:
            pub = write_copy(ctx, uow.session, photo, channel, decision, approval.caption, live)
            uow.commit()
            outbox.after_commit(ctx=ctx, session=uow.session)  # the replaced copy goes now
        except IntegrityError:  # another worker published it first: theirs stands
            uow.session.rollback()
            return publish_one(ctx=ctx, photo_id=photo_id, channel=channel, on=on)
        except Exception as exc:  # fail closed: nothing is published, the photo is blocked
            reason = (f"publishing failed ({type(exc).__name__}: {exc})"[:250]
                      if isinstance(exc, GatekeeperError)
                      else f"publishing failed ({type(exc).__name__})")
            log.warning("publish of photo %s failed: %s", photo_id, type(exc).__name__)
            uow.session.rollback()
            photo = uow.session.get(Photo, photo_id)
            assert photo is not None
            _block(uow.session, photo, reason)
            uow.commit()
            return PublishResult(photo_id, channel, None, reason)
        return PublishResult(photo_id, channel, pub.location)


def unpublished_approvals(session: Session, channel: Channel | None = None) -> list[tuple[int, Channel]]:
    """(photo id, channel) of every approval without a live copy of the photo's revision."""
    current = select(Publication.id).where(
        Publication.photo_id == Approval.photo_id, Publication.channel == Approval.channel,
        Publication.taken_down_at.is_(None), Publication.revision == Photo.revision)
    query = select(Approval.photo_id, Approval.channel).join(Photo).where(
        Photo.status == PhotoStatus.AWAITING_REVIEW.value, ~current.exists())
    if channel:
        query = query.where(Approval.channel == channel.value)
    rows = session.execute(query.order_by(Approval.photo_id, Approval.channel))
    return [(pid, Channel(ch)) for pid, ch in rows]


def pending_publications(*, ctx: Context) -> list[tuple[int, Channel]]:
    """What the sweep should publish: approvals without a current live copy."""
    with ctx.uow() as uow:
        return unpublished_approvals(uow.session)


def publish_approved(*, ctx: Context, channel: Channel | None = None,
                     on: date | None = None) -> list[PublishResult]:
    """Publish every approved photo without a current live copy: one unit of work per photo
    and channel, so one failure never costs the rest."""
    on = on or ctx.today()
    return [publish_one(ctx=ctx, photo_id=pid, channel=ch, on=on)
            for pid, ch in pending_publications(ctx=ctx)
            if channel is None or ch is channel]


def take_down(*, ctx: Context, session: Session, publication: Publication, reason: str,
              person_ids: list[int] | None = None) -> None:
    """Mark the publication taken down inside the caller's unit of work; its public object
    (every version) goes right after that commit (`outbox.after_commit`, which the caller calls),
    so a crash never leaves a live row without its object, nor the object without a row.
    `reason` names nobody (the uploader and subject access exports see it); `person_ids`,
    whose consent ended, go to the audit trail only."""
    outbox.delete_after_commit(session, outbox.public(publication.channel), publication.key)
    publication.taken_down_at = utcnow()
    publication.taken_down_reason = reason
    whose = {"person_ids": person_ids} if person_ids else {}
    audit.record(session, "publication.taken_down", "publication", publication.id, None,
                 photo_id=publication.photo_id, reason=reason, **whose)


def stale(ctx: Context, photo: Photo, pub: Publication) -> bool:
    """Made from an older revision of the photo, or with another cover mode than today's; a
    video's, with or without its sound against the channel's option today (a copy from
    before that was recorded is made again once)."""
    if pub.revision != photo.revision or (pub.cover_mode or CoverMode.SOLID.value) != \
            ctx.settings.cover_mode.value:
        return True
    return photo.media == "video" and pub.sound != keeps_sound(ctx=ctx,
                                                               channel=Channel(pub.channel))


def refresh(ctx: Context, session: Session, photo: Photo, channel: Channel,
             decision: PhotoDecision, old: Publication) -> None:
    """Replace a copy made before a correction: show only faces the copy already showed."""
    allowed = set(old.shown_person_ids or [])
    narrowed = PhotoDecision(None, {
        f.id: (Verdict.SHOW if decision.faces.get(f.id) is Verdict.SHOW
               and f.person_id in allowed else Verdict.COVER)
        for f in photo.faces})
    try:
        write_copy(ctx, session, photo, channel, narrowed, old.caption, old)
    except Exception as exc:  # fail closed: the stale copy must not stay up
        log.warning("refresh of photo %s failed: %s", photo.id, type(exc).__name__)
        take_down(ctx=ctx, session=session, publication=old, reason="correction could not be applied")
