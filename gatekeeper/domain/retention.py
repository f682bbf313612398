"""Dates the policy turns on: academic years and retention dates."""

from __future__ import annotations

from datetime import date, timedelta


def academic_year(on: date, start_month: int = 9, start_day: int = 1) -> str:
    """'2026/27' for any date from 1 September 2026 to 31 August 2027 (start configurable)."""
    first = on.year if (on.month, on.day) >= (start_month, start_day) else on.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def add_years(day: date, years: int) -> date:
    """Same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retention_date(
    left_on: date | None, retain_consent: bool, years_with_consent: int = 3, grace_days: int = 30
) -> date | None:
    """Last day anything of a person may be kept; None while they are on roll."""
    if left_on is None:
        return None
    if retain_consent:
        return add_years(left_on, years_with_consent)
    return left_on + timedelta(days=grace_days)


def on_roll(left_on: date | None, today: date) -> bool:
    """Still at the school today: no leaving date, or one still to come."""
    return left_on is None or left_on > today
