"""Live copies follow the facts: each is made equal to what publishing its approved photo now
would produce: taken down, or re-rendered covering more (showing more needs a new approval).

`settle` reconciles exactly the photos a change of fact named (the dirty set in `rechecks`),
one unit of work per photo; `sweep_dirty` is the minute's safety net over the same set; and
`recheck_all` re-decides every live copy, for what time alone changes (a consent lapsing at the
end of an academic year), once a day.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_db.models import Photo, PhotoStatus, Publication
from gatekeeper.domain.policy import Verdict, decide
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services import outbox, rechecks
from gatekeeper.services.consent.safeguarding import redecide_block
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.photos.publish import CONSENT_LOST, refresh, stale, take_down
from gatekeeper.services.video import previews

log = logging.getLogger(__name__)


@dataclass
class Settled:
    """What reconciling some photos did."""

    photos: int = 0
    taken_down: list[int] = field(default_factory=list)  # publication ids
    rerendered: list[int] = field(default_factory=list)  # publication ids replaced


def _not_live_reason(photo: Photo) -> str | None:
    """Why no copy of the photo may be live in its current status, or None."""
    if photo.status == PhotoStatus.AWAITING_REVIEW:
        return None
    if photo.status == PhotoStatus.HELD:
        return (photo.status_reason or "held")[:255]
    return photo.status


def reconcile_photo(*, ctx: Context, session: Session, photo: Photo, on: date,
                    result: Settled | None = None) -> Settled:
    """Make every live copy of the photo equal to a fresh render of it under today's facts,
    inside the caller's unit of work."""
    result = result or Settled()
    result.photos += 1
    live = [p for p in photo.publications if p.taken_down_at is None]
    if not live:
        return result
    gone = _not_live_reason(photo)
    facts, people = face_facts(photo), person_facts(session, photo)
    for pub in live:
        channel = Channel(pub.channel)
        decision = decide(facts, people, channel, on, ctx.year_start)
        shown_now = {f.person_id for f in photo.faces
                     if decision.faces.get(f.id) is Verdict.SHOW}
        if gone is not None or decision.blocked:
            take_down(ctx=ctx, session=session, publication=pub,
                      reason=gone or "blocked")
        elif stale(ctx, photo, pub):  # a correction or a new cover mode: re-render
            refresh(ctx, session, photo, channel, decision, pub)
            result.rerendered.append(pub.id)
            continue
        elif not set(pub.shown_person_ids or []) <= shown_now:
            # The reason names nobody: it reaches the uploader and other people's subject
            # access exports. Whose consent it was is the audit trail's, by id.
            lost = sorted(set(pub.shown_person_ids or []) - shown_now)
            take_down(ctx=ctx, session=session, publication=pub, reason=CONSENT_LOST,
                      person_ids=lost)
        else:
            continue
        photo.approvals[:] = [a for a in photo.approvals if a.channel != pub.channel]
        result.taken_down.append(pub.id)
    return result


def settle(*, ctx: Context, photo_ids: Iterable[int], on: date | None = None) -> Settled:
    """Reconcile the named photos, one unit of work each (one failure never costs the rest),
    and take them off the dirty set."""
    on = on or ctx.today()
    result = Settled()
    for photo_id in sorted(set(photo_ids)):
        video = False
        for attempt in range(3):
            started = rechecks.now()
            try:
                with ctx.uow() as uow:
                    photo = uow.session.get(Photo, photo_id)
                    video = photo is not None and photo.media == "video"
                    if photo is not None:
                        redecide_block(uow.session, photo, None)
                        reconcile_photo(ctx=ctx, session=uow.session, photo=photo, on=on,
                                        result=result)
                    rechecks.clear(uow.session, photo_id, queued_before=started)
                    uow.commit()
                    outbox.after_commit(ctx=ctx, session=uow.session)  # takedowns: now
                break
            except IntegrityError:  # another worker reconciled it at the same moment
                if attempt == 2:
                    raise
        if video:
            _drop_stale_previews(ctx, photo_id)
    return result


def _drop_stale_previews(ctx: Context, photo_id: int) -> None:
    """A video's previews no decision of today would make, deleted after the reconcile's
    commit: a preview a worker finished meanwhile for the old decision is gone either way, and
    a store that fails costs no takedown (a stale preview waits for the next change or the
    purge; it is never shown for today's decision)."""
    try:
        with ctx.uow() as uow:
            photo = uow.session.get(Photo, photo_id)
            if photo is not None:
                previews.drop_stale(ctx, uow.session, photo)
    except Exception as exc:  # the store or database failed: the takedowns stand
        log.warning("stale previews of photo %s not deleted: %s", photo_id, type(exc).__name__)


def sweep_dirty(*, ctx: Context, grace: timedelta = timedelta(seconds=15)) -> Settled:
    """The minute's safety net: reconcile what a lost or failed job left in the dirty set (a
    photo marked in the last `grace` is left to its own job)."""
    with ctx.uow() as uow:
        ids = rechecks.due(uow.session, older_than=rechecks.now() - grace)
    return settle(ctx=ctx, photo_ids=ids) if ids else Settled()


def recheck_all(*, ctx: Context, on: date | None = None,
                showing: int | None = None) -> list[int]:
    """Re-decide every live copy (or those showing one person): for lapses that no write of a
    fact announces, such as the end of an academic year. Returns the ids taken down."""
    with ctx.uow() as uow:
        query = select(Publication.photo_id, Publication.shown_person_ids).where(
            Publication.taken_down_at.is_(None))
        ids = {pid for pid, shown in uow.session.execute(query)
               if showing is None or showing in (shown or [])}
    return settle(ctx=ctx, photo_ids=ids, on=on).taken_down


class DailyRecheck:
    """Remembers the day of the last full re-check, so the first sweep of each day runs one."""

    def __init__(self) -> None:
        self.last: date | None = None

    def due(self, today: date) -> bool:
        return self.last != today

    def done(self, today: date) -> None:
        self.last = today


