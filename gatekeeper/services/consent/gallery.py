"""Face templates in and out of the database for the fused (dlib + SFace) identification.

`load_gallery` reads every template of every person still allowed one; `identify_faces` runs the
fused rule (gatekeeper.domain.fusion) on the usable faces of a photo;
`second_embedding_fields` gives the FaceTemplate columns for the SFace vector of an enrolled
face. Vectors are never logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db.models import FaceTemplate, Person
from gatekeeper.adapters.engine.found import FaceQuality
from gatekeeper.adapters.sface import DIM, MODEL_NAME
from gatekeeper.config import Settings
from gatekeeper.domain.fusion import FusionRule, Gallery, identify_fused
from gatekeeper.domain.matching import Match
from gatekeeper.domain.vocabulary import PersonKind

if TYPE_CHECKING:  # the engine's module is only needed for its type here
    from gatekeeper.adapters.faces import FoundFace


def rule_from_settings(settings: Settings) -> FusionRule:
    """The fused rule; the configured dlib-alone setting stays the rule for legacy templates."""
    return FusionRule(legacy_tolerance=settings.match_tolerance, legacy_margin=settings.match_margin)


def load_gallery(session: Session) -> Gallery:
    """Every template of every person with biometric consent (consent and roll kept in sync).
    A template without an SFace vector of the current model gets a NaN row; pupils are marked
    as children (the fused rule's child threshold and margin)."""
    rows = session.execute(
        select(FaceTemplate.person_id, FaceTemplate.encoding, FaceTemplate.sface_encoding,
               FaceTemplate.sface_model, Person.kind)
        .join(Person).where(Person.biometric_consent.is_(True))
    ).all()
    if not rows:
        return Gallery.empty()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    dlib = np.stack([np.frombuffer(r[1], dtype="<f8") for r in rows])
    nan = np.full(DIM, np.nan, dtype=np.float32)
    sface = np.stack([np.frombuffer(r[2], dtype="<f4") if r[2] is not None and r[3] == MODEL_NAME
                      else nan for r in rows])
    children = np.array([r[4] == PersonKind.PUPIL for r in rows], dtype=bool)
    return Gallery(dlib, sface, ids, children)


def identify_faces(usable: list[FoundFace], gallery: Gallery, settings: Settings) -> list[Match]:
    """One Match per usable FoundFace (each with a dlib encoding), by the fused rule."""
    if not usable:
        return []
    nan = np.full(DIM, np.nan, dtype=np.float32)
    return identify_fused(
        np.stack([f.encoding for f in usable if f.encoding is not None]),
        np.stack([nan if f.sface_encoding is None else f.sface_encoding for f in usable]),
        np.array([f.box.width for f in usable], dtype=np.float64),
        gallery, rule_from_settings(settings),
        soft=np.array([f.quality is FaceQuality.SOFT for f in usable]),
    )


def second_embedding_fields(face: FoundFace) -> dict[str, object]:
    """FaceTemplate columns for the face's SFace vector (none if the engine gave none)."""
    if face.sface_encoding is None:
        return {}
    return {"sface_encoding": np.asarray(face.sface_encoding, "<f4").tobytes(),
            "sface_model": MODEL_NAME}
