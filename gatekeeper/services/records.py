"""Loading a record by id inside a unit of work, or NotFound naming it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from consent_db.models import Photo
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
