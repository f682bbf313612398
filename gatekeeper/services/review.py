"""The editor's and DPO's decisions: approve per channel, reject, release held photos, fix faces."""

from __future__ import annotations

from sqlalchemy import select

from consent_db import audit
from consent_db.models import Approval, Face, ManualCover, Person, Photo, PhotoStatus

from ..config import CHANNELS
from ..errors import GatekeeperError, InvalidState, NotFound, PermissionDenied
from ..names import names_found
from ..policy import decide
from .facts import face_facts, person_facts
from .people import get_person
from .users import require_role


def get_photo(session, photo_id: int) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id}")
    return photo


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise GatekeeperError(f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})")
    return channel


def check_caption(session, caption: str | None, channel: str) -> str | None:
    """Refuse (never rewrite) a caption that names anyone as the channel forbids."""
    if not caption or not caption.strip():
        return None
    people = session.execute(select(Person.given_name, Person.family_name)).all()
    reasons = names_found(caption, people, channel)
    if reasons:
        raise GatekeeperError(f"caption refused for {channel}: it contains {' and '.join(reasons)}"
                              " of someone on the school's roll")
    return caption.strip()


def approve(*, ctx, photo_id: int, channel: str, user, caption: str | None = None) -> Approval:
    """Approve a reviewed photo for a channel; never by its uploader (separation of duties)."""
    check_channel(channel)
    with ctx.uow() as uow:
        user = uow.session.merge(user)
        require_role(user, "editor", "dpo")
        photo = get_photo(uow.session, photo_id)
        if photo.uploaded_by_id == user.id:
            raise PermissionDenied(f"photo {photo_id} was uploaded by {user.username}, "
                                   "who therefore cannot approve it")
        if photo.status != PhotoStatus.AWAITING_REVIEW:
            raise InvalidState(f"photo {photo_id} is {photo.status}, not awaiting review")
        verdict = decide(face_facts(photo), person_facts(uow.session, photo), channel,
                         ctx.today(), ctx.year_start)
        if verdict.blocked:
            raise InvalidState(f"photo {photo_id} is blocked: {verdict.blocked_reason}")
        caption = check_caption(uow.session, caption, channel)
        existing = next((a for a in photo.approvals if a.channel == channel), None)
        if existing is not None:
            return existing
        approval = Approval(photo_id=photo.id, channel=channel, approved_by_id=user.id,
                            caption=caption)
        uow.session.add(approval)
        uow.flush()
        audit.record(uow.session, "photo.approved", "photo", photo.id, user.id, channel=channel)
        uow.commit()
        return approval


def reject(*, ctx, photo_id: int, reason: str, user) -> None:
    with ctx.uow() as uow:
        user = uow.session.merge(user)
        require_role(user, "editor", "dpo")
        photo = get_photo(uow.session, photo_id)
        if photo.status == PhotoStatus.PURGED:
            raise InvalidState(f"photo {photo_id} is purged")
        photo.status, photo.status_reason = PhotoStatus.REJECTED.value, f"rejected: {reason}"
        photo.approvals.clear()
        audit.record(uow.session, "photo.rejected", "photo", photo.id, user.id)
        uow.commit()


def release(*, ctx, photo_id: int, user) -> None:
    """A DPO releases a held photo (provenance not proven) to be scanned."""
    with ctx.uow() as uow:
        user = uow.session.merge(user)
        require_role(user, "dpo")
        photo = get_photo(uow.session, photo_id)
        if photo.status != PhotoStatus.HELD:
            raise InvalidState(f"photo {photo_id} is {photo.status}, not held")
        photo.status, photo.status_reason = PhotoStatus.RECEIVED.value, None
        audit.record(uow.session, "photo.released", "photo", photo.id, user.id)
        uow.commit()


def identify_face(*, ctx, face_id: int, external_id: str | None, user) -> None:
    """The editor names a face's person (or None: unknown, stays covered); approvals reset."""
    with ctx.uow() as uow:
        user = uow.session.merge(user)
        require_role(user, "editor", "dpo")
        face = uow.session.get(Face, face_id)
        if face is None:
            raise NotFound(f"no face {face_id}")
        person = get_person(uow.session, external_id) if external_id else None
        face.person_id = person.id if person else None
        face.decided_by = "editor"
        face.photo.approvals.clear()
        verdict = decide(face_facts(face.photo), person_facts(uow.session, face.photo), "online",
                         ctx.today(), ctx.year_start)
        if verdict.blocked:
            face.photo.status = PhotoStatus.BLOCKED.value
            face.photo.status_reason = verdict.blocked_reason
        audit.record(uow.session, "face.identified", "face", face.id, user.id,
                     photo_id=face.photo_id, person_id=face.person_id)
        uow.commit()


def add_cover(*, ctx, photo_id: int, box: tuple[int, int, int, int], user) -> ManualCover:
    """An extra rectangle (x0, y0, x1, y1) to cover: a missed face, a name badge, a screen."""
    x0, y0, x1, y1 = box
    with ctx.uow() as uow:
        user = uow.session.merge(user)
        require_role(user, "editor", "dpo")
        photo = get_photo(uow.session, photo_id)
        x0, x1 = sorted((max(0, x0), min(photo.width, x1)))
        y0, y1 = sorted((max(0, y0), min(photo.height, y1)))
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise GatekeeperError("the cover rectangle lies outside the photo")
        cover = ManualCover(photo_id=photo.id, x0=x0, y0=y0, x1=x1, y1=y1)
        photo.covers.append(cover)
        photo.approvals.clear()
        uow.flush()
        audit.record(uow.session, "photo.cover_added", "photo", photo.id, user.id, cover=cover.id)
        uow.commit()
        return cover
