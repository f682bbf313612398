"""Face templates over time: the age band a template was made in, whether it is older than the
current academic year, and which templates go when a person has more than the cap.

Children's faces change within a year, so a template records when (academic year) and at what
age (the band of the person's year group) it was made. Pure functions: no database, no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from gatekeeper.domain.vocabulary import PersonKind

MAX_TEMPLATES = 10  # per person: the gallery stays small, the newest kept

# Year groups as schools write them: "Year 5", "Y5", "Yr 5", "5", "Year 10", "Reception", "R".
_YEAR = re.compile(r"^(?:y|yr|year)?\s*(\d{1,2})$")
_BANDS = ((1, 2, "Y1-Y2"), (3, 4, "Y3-Y4"), (5, 6, "Y5-Y6"), (7, 9, "Y7-Y9"),
          (10, 11, "Y10-Y11"), (12, 13, "Y12-Y13"))


def age_band(kind: str, year_group: str | None) -> str | None:
    """The age band of a person: "staff" for staff, the band of a pupil's year group
    ("Reception", "Y1-Y2" ... "Y12-Y13", "Nursery"), None when the year group is not one."""
    if kind == PersonKind.STAFF:
        return "staff"
    if kind != PersonKind.PUPIL:
        return "adult"
    text = (year_group or "").strip().lower().replace("-", " ").replace("_", " ")
    if text in ("r", "rec", "yr r", "year r", "reception", "yr", "fs2", "f2"):
        return "Reception"
    if text in ("n", "nursery", "fs1", "f1"):
        return "Nursery"
    match = _YEAR.match(text)
    if match is None:
        return None
    year = int(match.group(1))
    if year == 0:
        return "Reception"
    return next((band for low, high, band in _BANDS if low <= year <= high), None)


def is_stale(made_in: str | None, current: str) -> bool:
    """A template made before the current academic year ("2025/26" < "2026/27") is due for a
    refresh; one of unknown year counts as due."""
    return made_in is None or made_in < current


@dataclass(frozen=True)
class Kept:
    """What the cap needs to know of one template."""

    id: int
    source: str  # reference | confirmed
    created_at: datetime


def over_cap(templates: list[Kept], cap: int = MAX_TEMPLATES) -> list[int]:
    """Ids of the templates to delete so that at most `cap` remain: the oldest confirmed ones
    (an editor's confirmation is the weaker evidence) first, then the oldest reference ones."""
    extra = len(templates) - cap
    if extra <= 0:
        return []
    order = sorted(templates, key=lambda t: (t.source != "confirmed", t.created_at, t.id))
    return [t.id for t in order[:extra]]
