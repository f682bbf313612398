"""Stable, documented JSON views of records (the CLI's --json and the API share them)."""

from __future__ import annotations

from sqlalchemy import select

from consent_db.models import Person, Photo

from ..config import CHANNELS
from ..policy import Verdict, decide
from .facts import face_facts, person_facts


def photo_summary(photo: Photo) -> dict:
    return {
        "id": photo.id, "sha256": photo.sha256, "status": photo.status,
        "event": photo.event.name, "number": photo.number, "faces": len(photo.faces),
    }


def photo_detail(session, photo: Photo, on, year_start) -> dict:
    """Provenance, faces, per-channel decision and publications of one photo."""
    facts = person_facts(session, photo)
    external = dict(session.execute(
        select(Person.id, Person.external_id).where(Person.id.in_(list(facts) or [0]))).all())
    channels = {}
    for channel in CHANNELS:
        d = decide(face_facts(photo), facts, channel, on, year_start)
        approved = any(a.channel == channel for a in photo.approvals)
        channels[channel] = {
            "decision": "blocked" if d.blocked else "publishable",
            "reason": d.blocked_reason,
            "shown_faces": [fid for fid, v in d.faces.items() if v is Verdict.SHOW],
            "covered_faces": [fid for fid, v in d.faces.items() if v is Verdict.COVER],
            "approved": approved,
        }
    return {
        **photo_summary(photo),
        "status_reason": photo.status_reason,
        "format": photo.format, "width": photo.width, "height": photo.height,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "provenance": {
            "verdict": photo.provenance, "make": photo.camera_make,
            "model": photo.camera_model, "serial": photo.camera_serial,
        },
        "faces": [
            {
                "id": f.id, "box": {"top": f.top, "right": f.right, "bottom": f.bottom,
                                    "left": f.left},
                "quality": f.quality, "person": external.get(f.person_id),
                "distance": None if f.distance is None else round(f.distance, 4),
                "margin": None if f.margin is None else round(f.margin, 4),
                "decided_by": f.decided_by,
            }
            for f in photo.faces
        ],
        "manual_covers": [[c.x0, c.y0, c.x1, c.y1] for c in photo.covers],
        "channels": channels,
        "publications": [
            {"id": p.id, "channel": p.channel, "key": p.key, "location": p.location,
             "caption": p.caption,
             "published_at": p.published_at.isoformat(),
             "taken_down_at": p.taken_down_at.isoformat() if p.taken_down_at else None,
             "taken_down_reason": p.taken_down_reason}
            for p in photo.publications
        ],
    }
