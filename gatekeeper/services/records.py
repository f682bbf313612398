"""Loading a record by id inside a unit of work (or NotFound naming it), and who is on roll."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from consent_db.models import Person, Photo
from gatekeeper.errors import NotFound


def get_photo(session: Session, photo_id: int) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(f"no photo {photo_id}")
    return photo


def original_key_of(photo: Photo) -> str:
    """The stored original's key; a purged photo has none."""
    if photo.original_key is None:
        raise NotFound(f"photo {photo.id} has no stored image (purged)")
    return photo.original_key


def on_roll_clause(today: date) -> ColumnElement[bool]:
    """SQL for `gatekeeper.domain.retention.on_roll`: the person has not left by `today`."""
    return Person.left_on.is_(None) | (Person.left_on > today)

