"""Read models of the photo pages, the review queue, uploads and the live copies: each opens one
unit of work, reads and returns plain data (never live ORM objects), already cut to what the
viewer's role may see."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from consent_db.models import (
    Device,
    Event,
    Face,
    Person,
    Photo,
    PhotoStatus,
    Publication,
)
from gatekeeper.domain.names import slug_names_someone
from gatekeeper.domain.policy import Verdict, decide
from gatekeeper.domain.spans import box_at
from gatekeeper.domain.vocabulary import Channel, Role
from gatekeeper.errors import InvalidInput, NotFound, PermissionDenied
from gatekeeper.services.accounts.access import MASKED_SAFEGUARDING, PhotoView, mask, photo_view_for
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.consent.read import people_query
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts, track_covered
from gatekeeper.services.photos.devices import DeviceRow, row_of
from gatekeeper.services.stages import (
    LABELS,
    STAGES,
    Stage,
    parse_stage,
    stage_filter,
    stage_of,
    to_review_filter,
)

PAGE_SIZE = 48
# Every stage, in the order the filters offer them (see `stages`).
STATUSES = [s.value for s in STAGES]
STAGE_LABELS = {s.value: LABELS[s] for s in STAGES}


def _stage_filter(stage: str) -> Any:
    """The WHERE clause for one stage (an unknown stage: NotFound-free InvalidInput)."""
    try:
        return stage_filter(parse_stage(stage))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def photo_summary(photo: Photo) -> dict[str, Any]:
    info = stage_of(photo)
    return {
        "id": photo.id, "sha256": photo.sha256, "status": photo.status,
        "stage": info.stage.value, "stage_label": info.label, "stage_cause": info.cause,
        "channels_live": list(info.channels) if info.stage is Stage.PUBLISHED else [],
        "event": photo.event.name, "number": photo.number, "faces": len(photo.faces),
        "media": photo.media,
    }


def _channels(session: Session, photo: Photo, on: date,
              year_start: tuple[int, int]) -> dict[str, dict[str, Any]]:
    facts, people = face_facts(photo), person_facts(session, photo)
    out = {}
    for channel in Channel:
        d = decide(facts, people, channel, on, year_start)
        reason = d.blocked_reason
        if reason is None and photo.status == PhotoStatus.BLOCKED:
            reason = photo.status_reason or "blocked"
        out[channel.value] = {
            "decision": "blocked" if reason else "publishable",
            "reason": reason,
            "shown_faces": [] if reason else [f for f, v in d.faces.items() if v is Verdict.SHOW],
            "covered_faces": ([f.id for f in photo.faces] if reason else
                              [f for f, v in d.faces.items() if v is Verdict.COVER]),
            "approved": any(a.channel == channel for a in photo.approvals),
        }
    return out


WHERE_LIVE = {Channel.ONLINE.value: "on the website",
              Channel.DISPLAY.value: "a display copy (screens, boards, newsletters)",
              Channel.PRINT.value: "a print copy (leaflets, posters, press)"}


def camera_name(make: str | None, model: str | None) -> str | None:
    """"Canon EOS 250D", not "Canon Canon EOS 250D": many cameras repeat the make in the model."""
    make, model = (make or "").strip(), (model or "").strip()
    if make and model.casefold().startswith(make.casefold()):
        return model
    return " ".join(x for x in (make, model) if x) or None


def _detail(session: Session, photo: Photo, on: date, year_start: tuple[int, int]) -> dict[str, Any]:
    """Everything about one photo (the DPO's and the CLI's view; others get a cut of it)."""
    ids = {f.person_id for f in photo.faces if f.person_id is not None}
    external = dict(session.execute(
        select(Person.id, Person.external_id).where(Person.id.in_(ids or {0}))).all())
    tracks = track_covered(photo)
    return {
        **photo_summary(photo),
        "status_reason": photo.status_reason,
        "format": photo.format, "width": photo.width, "height": photo.height,
        **({"duration_s": round(photo.duration_s or 0, 2), "fps": photo.fps,
            "frame_count": photo.frame_count} if photo.media == "video" else {}),
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "provenance": {
            "verdict": photo.provenance, "make": photo.camera_make,
            "model": photo.camera_model, "serial": photo.camera_serial,
            "camera": camera_name(photo.camera_make, photo.camera_model),
        },
        "faces": [
            {
                "id": f.id, "box": {"top": f.top, "right": f.right, "bottom": f.bottom,
                                    "left": f.left},
                "quality": f.quality,
                "person": external.get(f.person_id) if f.person_id is not None else None,
                "distance": None if f.distance is None else round(f.distance, 4),
                "margin": None if f.margin is None else round(f.margin, 4),
                "decided_by": f.decided_by,
                **({"frames": [r[0] for r in f.frames], "on_picture": _on_picture(photo, f)}
                   if f.frames is not None else {}),
            }
            for f in photo.faces
        ],
        "manual_covers": [[c.x0, c.y0, c.x1, c.y1] for c in photo.covers
                          if c.face_id not in tracks],
        "covers": [{"id": c.id, "box": [c.x0, c.y0, c.x1, c.y1],
                    **({"track": c.face_id} if c.face_id in tracks else {}),
                    **({"start_s": c.start_ms / 1000, "end_s": c.end_ms / 1000}
                       if c.start_ms is not None and c.end_ms is not None else {})}
                   for c in sorted(photo.covers, key=lambda c: c.id)],
        "publishing": sorted(a.channel for a in photo.approvals
                             if not any(p.channel == a.channel and p.taken_down_at is None
                                        and p.revision == photo.revision
                                        for p in photo.publications)),
        "channels": _channels(session, photo, on, year_start),
        "approvals": [{"channel": a.channel, "caption": a.caption,
                       "approved_at": a.approved_at.isoformat()}
                      for a in sorted(photo.approvals, key=lambda a: a.channel)],
        "publications": [
            {"id": p.id, "channel": p.channel, "key": p.key, "location": p.location,
             "caption": p.caption, "where_live": WHERE_LIVE.get(p.channel, p.channel),
             "published_at": p.published_at.isoformat(),
             "taken_down_at": p.taken_down_at.isoformat() if p.taken_down_at else None,
             "taken_down_reason": p.taken_down_reason}
            for p in photo.publications
        ],
    }


def _on_picture(photo: Photo, face: Face) -> dict[str, int] | None:
    """A track's box on the reviewer's picture of a video (its middle frame), or None when the
    track is not on that frame."""
    middle = round((photo.duration_s or 0) / 2 * (photo.fps or 0))
    box = box_at([(int(r[0]), (int(r[1]), int(r[2]), int(r[3]), int(r[4])))
                  for r in face.frames or []], middle)
    return None if box is None else dict(zip(("top", "right", "bottom", "left"), box,
                                              strict=True))


def _photo(session: Session, photo_id: int) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id}")
    return photo


def media_of(*, ctx: Context, photo_id: int) -> str:
    """Whether a record is a photo or a video ("photo" | "video"); NotFound when there is none."""
    with ctx.uow() as uow:
        return _photo(uow.session, photo_id).media


def photo_detail(*, ctx: Context, photo_id: int, viewer: Actor | None = None) -> dict[str, Any]:
    """One photo as `viewer` may see it (None: the server's own CLI, which sees everything)."""
    with ctx.uow() as uow:
        photo = _photo(uow.session, photo_id)
        view = PhotoView.FULL if viewer is None else photo_view_for(
            viewer, photo.uploaded_by_id, unseen=f"no photo {photo_id}")
        return view.cut(_detail(uow.session, photo, ctx.today(), ctx.year_start))


def list_photos(*, ctx: Context, status: str | None = None) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        q = select(Photo).options(selectinload(Photo.event), selectinload(Photo.faces),
                                  selectinload(Photo.approvals), selectinload(Photo.publications))
        if status:
            q = q.where(_stage_filter(status))
        return [photo_summary(p) for p in uow.session.scalars(q.order_by(Photo.id))]


@dataclass(frozen=True)
class PhotoPage:
    detail: dict[str, Any]
    uploader_is_me: bool
    prev_id: int | None
    next_id: int | None
    names: dict[str, str]  # external id -> name, only of the people identified in this photo


def photo_page(*, ctx: Context, photo_id: int, viewer: Actor) -> PhotoPage:
    """The photo page: the photo as the viewer may see it and its neighbours in the queue."""
    with ctx.uow() as uow:
        photo = _photo(uow.session, photo_id)
        view = photo_view_for(viewer, photo.uploaded_by_id, unseen=f"no photo {photo_id}")
        detail = view.cut(_detail(uow.session, photo, ctx.today(), ctx.year_start))
        if view is PhotoView.FULL:  # the DPO reads who blocks it, not a record number
            _name_blockers(uow.session, detail)
        waiting = to_review_filter()
        prev_id = uow.session.scalar(select(func.max(Photo.id)).where(Photo.id < photo_id, waiting))
        next_id = uow.session.scalar(select(func.min(Photo.id)).where(Photo.id > photo_id, waiting))
        ids = {f.person_id for f in photo.faces if f.person_id is not None}
        names = {} if view is not PhotoView.FULL and view is not PhotoView.REVIEW else {
            ext: f"{given} {family}" for ext, given, family in uow.session.execute(
                select(Person.external_id, Person.given_name, Person.family_name)
                .where(Person.id.in_(ids or {0})))}
        return PhotoPage(detail, photo.uploaded_by_id == viewer.id,
                         prev_id if view.reviews else None, next_id if view.reviews else None,
                         names)


_PERSON_ID = re.compile(r"\bperson (\d+)\b")


def _name_blockers(session: Session, detail: dict[str, Any]) -> None:
    """Reasons say "person 7" (the policy knows record ids only): the DPO's page says
    "Ann Lee (P9)"."""
    texts = [detail.get("status_reason"), detail.get("stage_cause"),
             *(c.get("reason") for c in detail.get("channels", {}).values())]
    ids = {int(m) for t in texts if t for m in _PERSON_ID.findall(t)}
    if not ids:
        return
    names = {pid: f"{given} {family} ({ext})" for pid, ext, given, family in session.execute(
        select(Person.id, Person.external_id, Person.given_name, Person.family_name)
        .where(Person.id.in_(ids)))}

    def named(text: str | None) -> str | None:
        return text and _PERSON_ID.sub(
            lambda m: names.get(int(m.group(1)), "a person no longer on record"), text)

    for key in ("status_reason", "stage_cause"):
        detail[key] = named(detail.get(key))
    for channel in detail.get("channels", {}).values():
        channel["reason"] = named(channel.get("reason"))


def next_to_review(*, ctx: Context, after: int) -> int | None:
    """The photo to open after `after` was decided: the next one awaiting review, wrapping
    round to the first; None when the queue is empty."""
    with ctx.uow() as uow:
        waiting = to_review_filter() & (Photo.id != after)
        later = uow.session.scalar(select(func.min(Photo.id)).where(waiting, Photo.id > after))
        return later or uow.session.scalar(select(func.min(Photo.id)).where(waiting))


def identify_candidates(*, ctx: Context, q: str, viewer: Actor, limit: int = 10) -> list[dict[str, str]]:
    """People matching a name, year group or id: only what naming a face needs."""
    if not viewer.has(Role.EDITOR, Role.DPO):
        raise PermissionDenied("identifying faces needs the role editor or dpo")
    if len(q.strip()) < 2:
        return []
    with ctx.uow() as uow:
        rows = uow.session.scalars(people_query(q).where(Person.left_on.is_(None)).limit(limit))
        return [{"external_id": p.external_id, "name": f"{p.given_name} {p.family_name}",
                 "year_group": p.year_group or ""} for p in rows]


@dataclass(frozen=True)
class QueuePage:
    photos: list[dict[str, Any]]
    events: list[tuple[int, str]]
    total: int
    page: int
    pages: int


def review_queue(*, ctx: Context, status: str | None, event: int | None, page: int) -> QueuePage:
    page = max(1, page)
    with ctx.uow() as uow:
        query = select(Photo)
        count = select(func.count(Photo.id))
        if status:
            where = _stage_filter(status)
            query, count = query.where(where), count.where(where)
        if event:
            query, count = query.where(Photo.event_id == event), count.where(Photo.event_id == event)
        total = uow.session.scalar(count) or 0
        photos = [photo_summary(p) for p in uow.session.scalars(
            query.options(selectinload(Photo.event), selectinload(Photo.faces),
                          selectinload(Photo.approvals), selectinload(Photo.publications))
            .order_by(Photo.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))]
        events = [(i, n) for i, n in uow.session.execute(
            select(Event.id, Event.name).order_by(Event.name))]
    return QueuePage(photos, events, total, page, max(1, -(-total // PAGE_SIZE)))


@dataclass(frozen=True)
class LiveCopy:
    """One copy live now: where it is, with what caption, and how many people it shows."""

    photo_id: int
    event: str
    number: int
    channel: str
    caption: str | None
    location: str
    published_at: str
    shown: int


def live_now(*, ctx: Context, channel: str | None = None) -> list[LiveCopy]:
    """Every published copy that is live now, newest first (the editors' "Live now" page)."""
    with ctx.uow() as uow:
        query = (select(Publication, Photo.number, Event.name).select_from(Publication)
                 .join(Photo, Photo.id == Publication.photo_id)
                 .join(Event, Event.id == Photo.event_id)
                 .where(Publication.taken_down_at.is_(None)))
        if channel:
            query = query.where(Publication.channel == channel)
        rows = uow.session.execute(query.order_by(Publication.published_at.desc(),
                                                  Publication.id.desc()).limit(1000))
        return [LiveCopy(pub.photo_id, event, number, pub.channel, pub.caption, pub.location,
                         pub.published_at.isoformat(sep=" ", timespec="minutes"),
                         len(pub.shown_person_ids or []))
                for pub, number, event in rows]


def event_names(*, ctx: Context) -> list[str]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Event.name).order_by(Event.created_at.desc())))


def events(*, ctx: Context) -> list[tuple[Any, ...]]:
    """Each event with the start of its published file names (as publishing will really name
    them), its photo count and how many await review."""
    with ctx.uow() as uow:
        roll = uow.session.execute(select(Person.given_name, Person.family_name)).all()
        rows = uow.session.execute(
            select(Event.id, Event.name, Event.slug, Event.created_at,
                   func.count(Photo.id),
                   func.sum(case((to_review_filter(), 1), else_=0)))
            .outerjoin(Photo, Photo.event_id == Event.id).group_by(Event.id)
            .order_by(Event.created_at.desc())).all()
        return [(i, name, "event" if slug_names_someone(slug, roll) else slug, created, n, waiting)
                for i, name, slug, created, n, waiting in rows]


def devices(*, ctx: Context) -> list[DeviceRow]:
    with ctx.uow() as uow:
        return [row_of(d) for d in uow.session.scalars(select(Device).order_by(Device.id))]



def status_counts(*, ctx: Context) -> dict[str, int]:
    """Photos per stage: what governors see (counts only, never a photo or a name)."""
    with ctx.uow() as uow:
        counts = {stage: uow.session.scalar(
            select(func.count(Photo.id)).where(_stage_filter(stage))) or 0 for stage in STATUSES}
    return {stage: n for stage, n in counts.items() if n}


def stages_by_month(session: Session) -> Counter[tuple[str, str]]:
    """Photos by the month they were uploaded (YYYY-MM) and the stage they are in now."""
    counts = Counter[tuple[str, str]]()
    for stage in STATUSES:
        for created in session.scalars(select(Photo.created_at).where(_stage_filter(stage))):
            counts[(created.strftime("%Y-%m"), stage)] += 1
    return counts


NEXT_STEP = {
    PhotoStatus.RECEIVED.value: "waiting to be scanned (within a minute)",
    PhotoStatus.SCANNING.value: "faces are being found",
    PhotoStatus.HELD.value: "ask the DPO to release it from Held photos",
    PhotoStatus.AWAITING_REVIEW.value: "an editor will review it",
    Stage.APPROVED.value: "being published now",
    Stage.PUBLISHED.value: "live; taken down at once if consent is withdrawn",
    Stage.TAKEN_DOWN.value: "an editor may approve it again (the people who lost consent "
                            "stay covered)",
    Stage.ERASED.value: "deleted on request (right to erasure)",
    PhotoStatus.BLOCKED.value: "not publishable: ask the DPO",
    PhotoStatus.REJECTED.value: "an editor decided not to publish it",
    PhotoStatus.PURGED.value: "deleted under the retention rules",
}


@dataclass(frozen=True)
class UploadRow:
    id: int
    event: str
    file_name: str | None
    uploaded_at: str
    stage: str
    reason: str | None  # safeguarding reasons masked
    next_step: str
    faces: int  # a count only: never the faces or who they are
    media: str = "photo"  # photo | video


@dataclass(frozen=True)
class UploadsPage:
    rows: list[UploadRow]
    counts: dict[str, int]  # stage -> how many of the viewer's photos
    total: int
    page: int
    pages: int


def my_uploads(*, ctx: Context, viewer: Actor, page: int = 1) -> UploadsPage:
    """The viewer's own uploads, newest first, with the stage and the next step of each."""
    page = max(1, page)
    with ctx.uow() as uow:
        mine = Photo.uploaded_by_id == viewer.id
        total = uow.session.scalar(select(func.count(Photo.id)).where(mine)) or 0
        counts = {stage: uow.session.scalar(select(func.count(Photo.id)).where(
            mine, _stage_filter(stage))) or 0 for stage in STATUSES}
        photos = uow.session.scalars(
            select(Photo).where(mine).options(
                selectinload(Photo.event), selectinload(Photo.faces),
                selectinload(Photo.approvals), selectinload(Photo.publications))
            .order_by(Photo.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
        rows = []
        for p in photos:
            info = stage_of(p)
            stage = info.stage.value
            reason = mask(info.cause) if not viewer.has(Role.DPO) else info.cause
            if reason and reason.startswith(f"{p.status}: ") and reason != MASKED_SAFEGUARDING:
                reason = reason[len(p.status) + 2:]  # "held: no camera data" under "held"
            rows.append(UploadRow(p.id, p.event.name, p.original_filename,
                                  p.created_at.isoformat(timespec="minutes"), stage, reason,
                                  NEXT_STEP.get(stage, ""), len(p.faces), p.media))
    return UploadsPage(rows, {s: n for s, n in counts.items() if n}, total, page,
                       max(1, -(-total // PAGE_SIZE)))
