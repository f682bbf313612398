"""A correction made after publishing reaches the live copy (docs/school/editor.md, "Corrections
after publishing")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from consent_db.models import Face, Person, Publication
from gatekeeper.domain.vocabulary import Channel, CoverMode
from gatekeeper.services.photos.live import recheck_all as recheck_live
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.review import add_cover, approve, identify_face
from gatekeeper.services.photos.scan import scan_photo
from tests.integration.helpers import event_photo, ingest


def _published(ctx, photo_id: int) -> tuple[Publication, Path]:
    with ctx.uow() as uow:
        [pub] = uow.session.scalars(select(Publication).where(
            Publication.photo_id == photo_id, Publication.taken_down_at.is_(None))).all()
    return pub, Path(pub.location)


def test_a_cover_added_after_publishing_reaches_the_live_copy(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [first] = publish_approved(ctx=ctx)
    before_pub, before_path = _published(ctx, photo_id)
    with ctx.uow() as uow:
        [face] = uow.session.scalars(select(Face).where(
            Face.photo_id == photo_id, Face.person_id.is_not(None))).all()
        box = (face.left, face.top, face.right, face.bottom)
    assert before_pub.shown_person_ids  # TOM was shown
    add_cover(ctx=ctx, photo_id=photo_id, box=box, user=school["editor1"])
    assert recheck_live(ctx=ctx) == []  # nothing taken down for consent...
    after_pub, after_path = _published(ctx, photo_id)
    assert after_pub.id != before_pub.id and not before_path.exists() and after_path.exists()
    shown = Image.open(after_path).convert("RGB")
    crop = np.asarray(shown.crop(box), dtype=float)  # small photo: published at full size
    assert crop.std(axis=(0, 1)).max() < 3  # ...but the face is now a solid cover
    assert first.location != after_pub.location


def test_an_identity_cleared_after_publishing_covers_the_face_in_the_live_copy(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    before_pub, before_path = _published(ctx, photo_id)
    with ctx.uow() as uow:
        [face] = uow.session.scalars(select(Face).where(
            Face.photo_id == photo_id, Face.person_id.is_not(None))).all()
    identify_face(ctx=ctx, face_id=face.id, external_id=None, user=school["editor1"])
    recheck_live(ctx=ctx)
    after_pub, after_path = _published(ctx, photo_id)
    assert after_pub.shown_person_ids == [] and not before_path.exists()
    assert publish_approved(ctx=ctx) == []  # the correction needs no new approval to cover more


def test_a_cover_is_removed_before_publishing_but_never_from_a_live_copy(ctx, school):
    """remove_cover: bumps the revision, resets approvals, is audited; refused once live."""
    import pytest

    from consent_db.models import AuditEvent, Photo
    from gatekeeper.errors import InvalidState, NotFound
    from gatekeeper.services.photos.review import remove_cover

    photo_id = ingest(ctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    add_cover(ctx=ctx, photo_id=photo_id, box=(1, 1, 30, 30), user=school["editor1"])
    add_cover(ctx=ctx, photo_id=photo_id, box=(40, 40, 60, 60), user=school["editor1"])
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.PRINT], user=school["editor1"])
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        first, second = sorted(c.id for c in photo.covers)
        revision = photo.revision
    remove_cover(ctx=ctx, photo_id=photo_id, cover_id=first, user=school["editor1"])
    with pytest.raises(NotFound):
        remove_cover(ctx=ctx, photo_id=photo_id, cover_id=first, user=school["editor1"])
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert [c.id for c in photo.covers] == [second]
        assert photo.revision == revision + 1 and photo.approvals == []
        event = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "photo.cover_removed")).one()
        assert event.details["box"] == [1, 1, 30, 30] and event.actor_id == school["editor1"].id
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    with pytest.raises(InvalidState, match="published"):
        remove_cover(ctx=ctx, photo_id=photo_id, cover_id=second, user=school["editor1"])


def test_a_face_is_identified_by_name_as_well_as_by_upn(ctx, school):
    import pytest

    from gatekeeper.errors import NotFound

    photo_id = ingest(ctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with ctx.uow() as uow:
        face = uow.session.scalars(select(Face).where(Face.photo_id == photo_id)).first()
    identify_face(ctx=ctx, face_id=face.id, external_id="GivenEIL", user=school["editor1"])
    with ctx.uow() as uow:
        person_id = uow.session.get(Face, face.id).person_id
        assert uow.session.get(Person, person_id).external_id == "EIL"
    with pytest.raises(NotFound, match="no one on roll called 'Rosie'"):
        identify_face(ctx=ctx, face_id=face.id, external_id="Rosie", user=school["editor1"])


def test_a_new_cover_mode_re_renders_live_copies(ctx, school):
    from tests.integration.helpers import context_like

    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    before, before_path = _published(ctx, photo_id)
    pixelating = context_like(ctx, cover_mode=CoverMode.PIXELATE)
    recheck_live(ctx=pixelating)
    after, after_path = _published(ctx, photo_id)
    assert after.cover_mode == "pixelate" and after.id != before.id and not before_path.exists()
    assert after.shown_person_ids == before.shown_person_ids


def test_a_correction_reaches_the_live_copy_on_s3_every_version(ctx, school, s3_client,
                                                                face_engine):
    import io
    import uuid

    from gatekeeper.adapters.storage import S3Store, Stores
    from tests import imagegen
    from tests.integration.helpers import TOM, context_like

    suffix = uuid.uuid4().hex[:8]
    private, public = f"orig-{suffix}", f"pub-{suffix}"
    for bucket in (private, public):
        s3_client.create_bucket(Bucket=bucket,
                                CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        s3_client.put_bucket_versioning(Bucket=bucket,
                                        VersioningConfiguration={"Status": "Enabled"})
    s3 = context_like(ctx, stores=Stores(S3Store(s3_client, private, encrypt=True),
                                         {c: S3Store(s3_client, public, prefix=c.value)
                                          for c in Channel}))
    photo_id = ingest(s3, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=s3, photo_id=photo_id)
    approve(ctx=s3, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=s3)
    before, _ = _published(s3, photo_id)
    with s3.uow() as uow:
        [face] = uow.session.scalars(select(Face).where(
            Face.photo_id == photo_id, Face.person_id.is_not(None))).all()
        box = (face.left, face.top, face.right, face.bottom)
    add_cover(ctx=s3, photo_id=photo_id, box=box, user=school["editor1"])
    recheck_live(ctx=s3)
    after, _ = _published(s3, photo_id)
    keys = {v["Key"] for v in s3_client.list_object_versions(Bucket=public).get("Versions", [])}
    assert keys == {f"online/{after.key}"}  # the old copy is gone, every version
    data = s3_client.get_object(Bucket=public, Key=f"online/{after.key}")["Body"].read()
    published = Image.open(io.BytesIO(data)).convert("RGB")
    [tom] = face_engine.find_faces(imagegen.load(TOM), look_sideways=False)
    for found in face_engine.find_faces(published, look_sideways=False):
        assert found.encoding is None or np.linalg.norm(found.encoding - tom.encoding) > 0.6
