"""Read models of the people pages: finding a person by name, year group or id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select

from consent_db.models import (
    Person,
)
from gatekeeper.services.context import Context


def people_query(q: str) -> Select[Person]:
    """Everyone whose name, year group or id contains every word of `q`."""
    query = select(Person).order_by(Person.family_name, Person.given_name, Person.id)
    for word in q.split():
        like = f"%{word}%"
        query = query.where(or_(Person.given_name.ilike(like), Person.family_name.ilike(like),
                                Person.external_id.ilike(like), Person.year_group.ilike(like)))
    return query


@dataclass(frozen=True)
class PersonSummary:
    external_id: str
    given_name: str
    family_name: str
    kind: str
    year_group: str | None
    joined_on: date | None
    left_on: date | None
    biometric_consent: bool
    safeguarding_no_photo: bool

    @classmethod
    def of(cls, p: Person) -> PersonSummary:
        return cls(p.external_id, p.given_name, p.family_name, p.kind, p.year_group,
                   p.joined_on, p.left_on, p.biometric_consent, p.safeguarding_no_photo)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__,
                "joined_on": self.joined_on.isoformat() if self.joined_on else None,
                "left_on": self.left_on.isoformat() if self.left_on else None}


def search_people(*, ctx: Context, q: str = "", limit: int = 200,
                  offset: int = 0) -> tuple[list[PersonSummary], int]:
    """People whose name, year group or id contains every word of `q`, and the total count."""
    with ctx.uow() as uow:
        query = people_query(q)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = [PersonSummary.of(p)
                for p in uow.session.scalars(query.offset(offset).limit(limit))]
        return rows, total

