"""A photo's stage, with its cause: the one story every page, filter, CLI flag, API field,
register, subject access export and report tells.

The stored status says where the photo is in scanning and review; the stage adds what the
publications and approvals say (approved, published on which channels, taken down and why) and
what a purge was for (retention, or erasure on request). `stage_of` derives it from a loaded
photo; `stage_filter` is the same rule as a SQL condition, so lists and counts agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select

from consent_db.models import Approval, Photo, PhotoStatus, Publication

# Why a photo was purged (its status reason): retention, or erasure on request.
RETENTION, ERASED = "retention", "erased on request"


class Stage(StrEnum):
    RECEIVED = "received"
    HELD = "held"
    SCANNING = "scanning"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"  # being published
    PUBLISHED = "published"  # live on one or more channels
    TAKEN_DOWN = "taken_down"  # was live; back in review
    BLOCKED = "blocked"
    REJECTED = "rejected"
    ERASED = "erased"  # on request (right to erasure or objection)
    PURGED = "purged"  # by the retention rules


STAGES: tuple[Stage, ...] = tuple(Stage)

LABELS: dict[Stage, str] = {
    Stage.RECEIVED: "received", Stage.HELD: "held", Stage.SCANNING: "scanning",
    Stage.AWAITING_REVIEW: "awaiting review", Stage.APPROVED: "approved",
    Stage.PUBLISHED: "published", Stage.TAKEN_DOWN: "taken down", Stage.BLOCKED: "blocked",
    Stage.REJECTED: "rejected", Stage.ERASED: "erased on request",
    Stage.PURGED: "purged by retention",
}


@dataclass(frozen=True)
class StageInfo:
    stage: Stage
    cause: str | None = None  # why: held, blocked, rejected, taken down
    channels: tuple[str, ...] = ()  # published on (or approved for)
    since: datetime | None = None  # when it was taken down

    @property
    def label(self) -> str:
        text = LABELS[self.stage]
        if self.channels and self.stage in (Stage.PUBLISHED, Stage.APPROVED):
            text += f" ({', '.join(self.channels)})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage.value, "label": self.label, "cause": self.cause,
                "channels": list(self.channels),
                "since": self.since.isoformat(timespec="minutes") if self.since else None}


def parse_stage(text: str) -> Stage:
    """A Stage from user input ('published', 'awaiting review'), or ValueError naming the
    choices."""
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return Stage(key)
    except ValueError:
        raise ValueError(f"unknown stage {text!r} (one of {', '.join(STAGES)})") from None


def stage_of(photo: Photo) -> StageInfo:
    """The photo's stage and its cause (publications and approvals loaded)."""
    status = photo.status
    if status == PhotoStatus.PURGED:
        erased = photo.status_reason == ERASED
        return StageInfo(Stage.ERASED if erased else Stage.PURGED, photo.status_reason)
    if status != PhotoStatus.AWAITING_REVIEW:
        return StageInfo(Stage(status), photo.status_reason)
    live = sorted(p.channel for p in photo.publications if p.taken_down_at is None)
    if live:
        return StageInfo(Stage.PUBLISHED, None, tuple(live))
    if photo.approvals:
        return StageInfo(Stage.APPROVED, None, tuple(sorted(a.channel for a in photo.approvals)))
    downs = [p for p in photo.publications if p.taken_down_at is not None]
    if downs:
        last = max(downs, key=lambda p: (p.taken_down_at or datetime.min, p.id))
        return StageInfo(Stage.TAKEN_DOWN, last.taken_down_reason, (last.channel,),
                         last.taken_down_at)
    return StageInfo(Stage.AWAITING_REVIEW)


_LIVE = select(Publication.id).where(Publication.photo_id == Photo.id,
                                     Publication.taken_down_at.is_(None)).exists()
_EVER = select(Publication.id).where(Publication.photo_id == Photo.id).exists()
_APPROVED = select(Approval.id).where(Approval.photo_id == Photo.id).exists()
_REVIEWED = Photo.status == PhotoStatus.AWAITING_REVIEW.value
_PURGED = Photo.status == PhotoStatus.PURGED.value


def stage_filter(stage: Stage) -> Any:
    """The WHERE clause that selects exactly the photos `stage_of` puts in `stage`."""
    if stage is Stage.AWAITING_REVIEW:
        return and_(_REVIEWED, ~_LIVE, ~_APPROVED, ~_EVER)
    if stage is Stage.TAKEN_DOWN:
        return and_(_REVIEWED, ~_LIVE, ~_APPROVED, _EVER)
    if stage is Stage.APPROVED:
        return and_(_REVIEWED, ~_LIVE, _APPROVED)
    if stage is Stage.PUBLISHED:
        return and_(_REVIEWED, _LIVE)
    if stage is Stage.ERASED:
        return and_(_PURGED, Photo.status_reason == ERASED)
    if stage is Stage.PURGED:
        return and_(_PURGED, (Photo.status_reason.is_(None)) | (Photo.status_reason != ERASED))
    return Photo.status == stage.value


# The stages an editor works through (the review queue's "to review"): never seen, or taken
# down and waiting for a new approval.
TO_REVIEW = (Stage.AWAITING_REVIEW, Stage.TAKEN_DOWN)


def to_review_filter() -> Any:
    return _REVIEWED & ~_LIVE & ~_APPROVED
