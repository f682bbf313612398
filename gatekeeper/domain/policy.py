"""The consent policy as pure functions: per face and channel show or cover; per photo block.

A face is shown only when it is identified and that person holds granted, unwithdrawn consent for
the channel in the academic year of the publication date. Everything else is covered. A photo is
blocked, for every channel, when anyone with a safeguarding flag is (even possibly) in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import Channel


class Verdict(StrEnum):
    SHOW = "show"
    COVER = "cover"


@dataclass(frozen=True)
class ConsentFact:
    academic_year: str
    channel: str  # a ConsentKind value
    granted: bool
    recorded_on: date
    withdrawn_on: date | None = None


@dataclass(frozen=True)
class PersonFact:
    person_id: int
    safeguarding_no_photo: bool
    consents: tuple[ConsentFact, ...] = ()


SAFEGUARDING_REASON = "safeguarding:"  # every block by a flag starts so (it lifts with the flag)


@dataclass(frozen=True)
class FaceFact:
    face_id: int
    person_id: int | None  # identified person (auto or by the editor), None = unknown
    near_person_ids: frozenset[int] = frozenset()
    hand_covered: bool = False  # an editor's cover hides the face: it is never shown


@dataclass(frozen=True)
class PhotoDecision:
    blocked_reason: str | None
    faces: dict[int, Verdict] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return self.blocked_reason is not None


def has_consent(person: PersonFact, channel: Channel, on: date,
                year_start: tuple[int, int] = (9, 1)) -> bool:
    """Granted, recorded by `on`, not withdrawn by `on`, for the academic year containing `on`."""
    year = academic_year(on, *year_start)
    return any(
        c.channel == channel
        and c.academic_year == year
        and c.granted
        and c.recorded_on <= on
        and (c.withdrawn_on is None or c.withdrawn_on > on)
        for c in person.consents
    )


def blocked_reason(faces: list[FaceFact], people: dict[int, PersonFact]) -> str | None:
    """Why the photo may not be published on any channel, or None: anyone with a safeguarding
    flag identified in it, or even possibly in it (within tolerance of a face)."""
    for face in faces:
        candidates = {face.person_id, *face.near_person_ids} - {None}
        for pid in sorted(p for p in candidates if p is not None):
            person = people.get(pid)
            if person is not None and person.safeguarding_no_photo:
                return f"{SAFEGUARDING_REASON} person {pid} must never be photographed"
    return None


def decide(
    faces: list[FaceFact],
    people: dict[int, PersonFact],
    channel: Channel,
    on: date,
    year_start: tuple[int, int] = (9, 1),
) -> PhotoDecision:
    """Verdict for every face on one channel at date `on`, or the reason the photo is blocked."""
    reason = blocked_reason(faces, people)
    if reason is not None:
        return PhotoDecision(reason)
    verdicts: dict[int, Verdict] = {}
    for face in faces:
        person = people.get(face.person_id) if face.person_id is not None else None
        show = (person is not None and not face.hand_covered
                and has_consent(person, channel, on, year_start))
        verdicts[face.face_id] = Verdict.SHOW if show else Verdict.COVER
    return PhotoDecision(None, verdicts)
