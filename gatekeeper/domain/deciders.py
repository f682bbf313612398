"""Who decides consent, and what several answers add up to (the consent portal's rules).

Pure functions: the services pass in the latest answer of each decider and get back the
outcome and the reason the DPO is shown. Every rule fails closed: no answer, a disagreement or
any refusal that counts means no consent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from gatekeeper.domain.vocabulary import ConsentUse

BIOMETRIC = ConsentUse.BIOMETRIC  # matching faces to templates (PoFA 2012, ss26-28)


class Outcome(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    NONE = "no decision"


@dataclass(frozen=True)
class Answer:
    """The latest answer of one decider: a parent or carer (`contact`), or the pupil."""

    granted: bool
    by_pupil: bool
    who: str  # "J. Smith" or "the pupil": shown to the DPO only


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    reason: str
    disagreement: bool = False  # parents gave different answers: shown to the DPO


def _names(answers: list[Answer]) -> str:
    return ", ".join(sorted(a.who for a in answers))


def resolve_use(answers: list[Answer], *, pupil_has_voice: bool) -> Resolution:
    """A use of photos (display, print, online, retain): granted only with a parent's written
    consent and no refusal that counts. The pupil's refusal counts once they have a voice and
    wins over any parent; any parent's refusal wins over another parent's consent."""
    parents = [a for a in answers if not a.by_pupil]
    pupil = [a for a in answers if a.by_pupil]
    refusing = [a for a in parents if not a.granted]
    giving = [a for a in parents if a.granted]
    if pupil_has_voice and any(not a.granted for a in pupil):
        return Resolution(Outcome.REFUSED, "refused by the pupil (their refusal wins)")
    if refusing and giving:
        return Resolution(Outcome.REFUSED, f"parents disagree: {_names(giving)} gave, "
                          f"{_names(refusing)} refused; refused until they agree", True)
    if refusing:
        return Resolution(Outcome.REFUSED, f"refused by {_names(refusing)}")
    if giving:
        return Resolution(Outcome.GRANTED, f"given by {_names(giving)}")
    if pupil and pupil_has_voice:
        return Resolution(Outcome.NONE, "the pupil agreed; waiting for a parent's consent")
    return Resolution(Outcome.NONE, "no parent has answered yet")


def resolve_biometric(answers: list[Answer]) -> Resolution:
    """Biometric matching (PoFA 2012 s26-28): at least one parent consents, no parent objects,
    and the pupil, at any age, has not refused. Without it the face is always covered."""
    parents = [a for a in answers if not a.by_pupil]
    objecting = [a for a in parents if not a.granted]
    if any(a.by_pupil and not a.granted for a in answers):
        return Resolution(Outcome.REFUSED, "the pupil refused (at any age this overrides)")
    if objecting:
        return Resolution(Outcome.REFUSED, f"objection by {_names(objecting)}",
                          disagreement=any(a.granted for a in parents))
    giving = [a for a in parents if a.granted]
    if giving:
        return Resolution(Outcome.GRANTED, f"consent by {_names(giving)}, no objection")
    return Resolution(Outcome.NONE, "no parent has consented: faces are always covered")


_NUMBER = re.compile(r"(\d{1,2})")


def year_number(year_group: str | None) -> int | None:
    """The National Curriculum year of an MIS year group ("Year 8", "Y8", "8", "8B");
    Reception and nursery count as 0, anything else unknown (None)."""
    text = (year_group or "").strip().lower()
    if not text:
        return None
    if text.startswith(("reception", "rec", "nursery", "fs")):
        return 0
    match = _NUMBER.search(text)
    return int(match.group(1)) if match else None


def school_order(year_group: str | None) -> tuple[int, int, str]:
    """Sort key of year groups as a school lists them: Nursery, Reception, Year 1 ... Year 13,
    then anything unrecognised (alphabetically), never as text ("Year 10" before "Year 3")."""
    text = (year_group or "").strip()
    number = year_number(text)
    if number is None:
        return (1, 0, text.lower())
    nursery = text.lower().startswith(("nursery", "fs1"))
    return (0, -1 if nursery else number, text.lower())


def has_own_voice(year_group: str | None, from_year: int) -> bool:
    """Pupils from `from_year` on are invited themselves and their refusals win."""
    number = year_number(year_group)
    return number is not None and number >= from_year
