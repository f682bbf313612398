"""The consent policy: show only with valid consent on the date; safeguarding blocks."""

from __future__ import annotations

from datetime import date

from gatekeeper.domain.policy import ConsentFact, FaceFact, PersonFact, Verdict, decide


def person(pid, *consents, flag=False):
    return PersonFact(pid, flag, tuple(consents))


GRANT = ConsentFact("2026/27", "online", True, date(2026, 9, 5))


def test_consented_face_shown_others_covered():
    faces = [FaceFact(1, 10), FaceFact(2, 11), FaceFact(3, None)]
    people = {10: person(10, GRANT), 11: person(11)}
    d = decide(faces, people, "online", date(2026, 11, 1))
    assert d.faces == {1: Verdict.SHOW, 2: Verdict.COVER, 3: Verdict.COVER}
    assert decide(faces, people, "print", date(2026, 11, 1)).faces[1] is Verdict.COVER


def test_consent_is_annual_and_must_precede_publication():
    people = {10: person(10, GRANT)}
    faces = [FaceFact(1, 10)]
    assert decide(faces, people, "online", date(2027, 9, 1)).faces[1] is Verdict.COVER  # lapsed
    assert decide(faces, people, "online", date(2026, 9, 4)).faces[1] is Verdict.COVER  # not yet


def test_withdrawal_counts_from_its_date():
    withdrawn = ConsentFact("2026/27", "online", False, date(2026, 9, 5), date(2026, 10, 1))
    faces, people = [FaceFact(1, 10)], {10: person(10, withdrawn)}
    assert decide(faces, people, "online", date(2026, 10, 2)).faces[1] is Verdict.COVER


def test_safeguarding_blocks_every_channel_even_when_only_near():
    flagged = {10: person(10, GRANT, flag=True), 11: person(11, GRANT)}
    for channel in ("display", "print", "online"):
        assert decide([FaceFact(1, 10)], flagged, channel, date(2026, 11, 1)).blocked
        near_only = [FaceFact(1, None, frozenset({10, 11}))]
        assert decide(near_only, flagged, channel, date(2026, 11, 1)).blocked
