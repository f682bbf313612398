"""A little blurred face (soft: between min_sharpness and sharp_from) of an enrolled, consented
pupil is recognised under the stricter margin and shown; a face blurred past min_sharpness is
still covered as too blurred (issue 29)."""

from __future__ import annotations

from PIL import ImageFilter
from sqlalchemy import select

from consent_db.models import Face, Person
from gatekeeper.services.photos.scan import scan_photo
from tests import imagegen
from tests.integration.helpers import TOM, ingest


def _photo_of_tom(blur: float) -> bytes:
    """Tom's face about 190 px wide, softened by a Gaussian blur of `blur` px (4.5-5: soft,
    sharpness 5.8-6.7; 6 and more: too blurred)."""
    canvas, _ = imagegen.row_of_faces([imagegen.load(TOM)], height=380)
    return imagegen.jpeg(canvas.filter(ImageFilter.GaussianBlur(blur)), imagegen.exif_bytes())


def _faces(ctx, photo_id: int) -> list[tuple[str, str | None]]:
    with ctx.uow() as uow:
        rows = uow.session.execute(
            select(Face.quality, Person.external_id)
            .outerjoin(Person, Person.id == Face.person_id)
            .where(Face.photo_id == photo_id)).all()
    return [(q, ext) for q, ext in rows]


def test_a_soft_face_of_a_consented_pupil_is_recognised(ctx, school):
    photo_id = ingest(ctx, school["office1"], _photo_of_tom(5)).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    assert _faces(ctx, photo_id) == [("soft", "TOM")]


def test_a_face_blurred_past_the_floor_is_covered_as_too_blurred(ctx, school):
    photo_id = ingest(ctx, school["office1"], _photo_of_tom(7)).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    assert _faces(ctx, photo_id) == [("too_blurred", None)]
