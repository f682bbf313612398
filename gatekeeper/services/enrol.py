"""Reference photos to face templates, only for people with biometric consent who are on roll."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np

from consent_db import audit
from consent_db.models import FaceTemplate

from ..errors import EnrolmentRefused, InvalidImage
from ..images import decode
from .people import get_person


def enrol(*, ctx, external_id: str, photos: list[tuple[str, bytes]], today: date,
          actor_id: int | None = None) -> int:
    """Add one template per reference photo; all photos or none. Returns the template count."""
    with ctx.uow() as uow:
        person = get_person(uow.session, external_id)
        if not person.biometric_consent:
            raise EnrolmentRefused(f"{external_id} has no biometric consent: not enrolled")
        if person.left_on is not None and person.left_on <= today:
            raise EnrolmentRefused(f"{external_id} is no longer on roll: not enrolled")
        if not photos:
            raise EnrolmentRefused("no reference photo given")
        templates = []
        for name, data in photos:
            try:
                img = decode(data, ctx.settings.max_image_pixels).pixels
                encoding, face = ctx.faces.encode_single(img)
            except (InvalidImage, EnrolmentRefused) as exc:
                raise EnrolmentRefused(f"{name}: {exc}; nothing was enrolled") from None
            templates.append(FaceTemplate(
                person_id=person.id, encoding=np.asarray(encoding, "<f8").tobytes(),
                source_sha256=hashlib.sha256(data).hexdigest(), quality=face.score,
            ))
        uow.session.add_all(templates)
        uow.flush()
        audit.record(uow.session, "person.enrolled", "person", person.id, actor_id,
                     templates=[t.id for t in templates])
        uow.commit()
        return len(templates)
