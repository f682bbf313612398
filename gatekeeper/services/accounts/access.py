"""Who may see what of a photo: the role x field table, enforced here and nowhere else.

| viewer                      | view       | sees                                                       |
|-----------------------------|------------|------------------------------------------------------------|
| dpo                         | FULL       | everything, safeguarding reasons included                  |
| editor                      | REVIEW     | image, faces, identities, decisions; safeguarding masked   |
| office, own upload          | OWN_UPLOAD | status, reason (masked), event, counts, publications       |
| office, someone else's      | refused    |                                                            |
| governor                    | refused    | (aggregates only, on the reports page)                     |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import NotFound, PermissionDenied
from gatekeeper.services.accounts.users import Actor

MASKED_SAFEGUARDING = "blocked: ask the DPO"
_OWN_UPLOAD_FIELDS = ("id", "status", "stage", "stage_label", "stage_cause", "channels_live",
                      "status_reason", "event", "number", "media", "format", "width", "height",
                      "taken_at", "provenance", "publications", "approvals")


class PhotoView(StrEnum):
    FULL = "full"
    REVIEW = "review"
    OWN_UPLOAD = "own_upload"

    @property
    def reviews(self) -> bool:
        """May see the image, faces and identities."""
        return self is not PhotoView.OWN_UPLOAD

    def cut(self, detail: dict[str, Any]) -> dict[str, Any]:
        """The photo detail reduced to what this view may see."""
        if self is PhotoView.FULL:
            return detail
        out = dict(detail)
        out["status_reason"] = mask(detail.get("status_reason"))
        out["stage_cause"] = mask(detail.get("stage_cause"))
        if self is PhotoView.OWN_UPLOAD:
            out = {k: out[k] for k in _OWN_UPLOAD_FIELDS if k in out}
            out["faces_count"] = len(detail.get("faces", []))
            out["faces"] = []
            out["manual_covers"] = []
            out["covers"] = []
            out["channels"] = {}
            # where each copy lives (the public store's key, the server's path) is not theirs
            out["publications"] = [
                {k: v for k, v in pub.items() if k not in ("key", "location")}
                for pub in detail.get("publications", [])]
            return out
        out["channels"] = {ch: {**c, "reason": mask(c.get("reason"))}
                           for ch, c in detail.get("channels", {}).items()}
        return out


def mask(reason: str | None) -> str | None:
    """Safeguarding reasons reach the DPO only."""
    if reason and "safeguarding" in reason:
        return MASKED_SAFEGUARDING
    return reason


def photo_view_for(viewer: Actor, uploaded_by_id: int | None, *,
                   unseen: str | None = None) -> PhotoView:
    """The view `viewer` gets of a photo, or PermissionDenied; with `unseen` (what a missing
    one answers, e.g. "no photo 7"), NotFound with it to the office for someone else's upload:
    a refusal would tell them which photos exist."""
    if viewer.has(Role.DPO):
        return PhotoView.FULL
    if viewer.has(Role.EDITOR):
        return PhotoView.REVIEW
    if viewer.has(Role.OFFICE) and uploaded_by_id == viewer.id:
        return PhotoView.OWN_UPLOAD
    if unseen is not None and viewer.has(Role.OFFICE):
        raise NotFound(unseen)
    raise PermissionDenied("you may only see photos you uploaded")


def require_image_access(viewer: Actor, uploaded_by_id: int | None, *,
                         unseen: str | None = None) -> None:
    """The unredacted image is for reviewers only (`unseen`: as for photo_view_for)."""
    if not photo_view_for(viewer, uploaded_by_id, unseen=unseen).reviews:
        raise PermissionDenied("the unredacted photo is shown to editors and the DPO only")
