"""Academic years, retention dates and the name checks for published text."""

from __future__ import annotations

from datetime import date

from gatekeeper.domain.names import names_found, slugify
from gatekeeper.domain.retention import academic_year, retention_date
from gatekeeper.domain.vocabulary import NameRule

PEOPLE = [("Amara", "Okafor"), ("Ben", "Jones-Smith"), ("Zoë", "O'Neill")]


def test_academic_year_boundaries():
    assert academic_year(date(2026, 8, 31)) == "2025/26"
    assert academic_year(date(2026, 9, 1)) == "2026/27"
    assert academic_year(date(2099, 12, 31)) == "2099/00"


def test_retention_dates():
    assert retention_date(None, True) is None
    assert retention_date(date(2024, 7, 20), True) == date(2027, 7, 20)
    assert retention_date(date(2024, 2, 29), True) == date(2027, 2, 28)
    assert retention_date(date(2024, 7, 20), False) == date(2024, 8, 19)


def test_online_captions_never_carry_family_or_full_names():
    assert names_found("Year 5 at the races", PEOPLE, NameRule.NO_FAMILY_NAME) == []
    assert names_found("Amara wins the relay", PEOPLE, NameRule.NO_FAMILY_NAME) == []  # given name alone
    assert names_found("AMARA OKAFOR wins", PEOPLE, NameRule.NO_FAMILY_NAME) == ["a full name"]
    assert names_found("Okafor's great jump", PEOPLE, NameRule.NO_FAMILY_NAME) == ["a family name"]
    assert names_found("well done smith", PEOPLE, NameRule.NO_FAMILY_NAME) == ["a family name"]  # hyphenated
    assert names_found("Zoe oneill", PEOPLE, NameRule.NO_FAMILY_NAME) == ["a full name"]
    assert names_found("O Neill", PEOPLE, NameRule.NO_FAMILY_NAME) == ["a family name"]
    assert names_found("Zoë O'Neill", PEOPLE, NameRule.NO_FAMILY_NAME) == ["a full name"]
    assert names_found("Okafor's great jump", PEOPLE, NameRule.NO_FULL_NAME) == []


def test_slugs_are_neutral():
    assert slugify("Sports Day 2026!") == "sports-day-2026"
    assert slugify("Zoë's class") == "zoe-class"
    assert slugify("!!!") == "event"
