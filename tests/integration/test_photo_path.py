"""A photo's way through the services on a real database: ingest, scan, approve, publish,
take down; and every failure fails closed."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from consent_db.audit import verify_chain
from consent_db.models import AuditEvent, FaceTemplate, Person, Photo, PhotoStatus, Publication
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidState, PermissionDenied
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.photos.ingest import IngestOutcome
from gatekeeper.services.photos.live import recheck_all as recheck_live
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.read import list_photos
from gatekeeper.services.photos.review import approve, release
from gatekeeper.services.photos.scan import scan_pending, scan_photo
from tests import imagegen
from tests.integration.helpers import (
    EILEEN,
    TOM,
    consent,
    context_like,
    event_photo,
    ingest,
    make_user,
    people,
    person_row,
)


def test_ingest_dedupes_holds_and_rejects_per_file(ctx, school):
    office = school["office1"]
    data = event_photo()
    first = ingest(ctx, office, data)
    assert first.outcome is IngestOutcome.ACCEPTED
    assert ingest(ctx, office, data).outcome is IngestOutcome.DUPLICATE
    assert ingest(ctx, office, event_photo(exif=False)).outcome is IngestOutcome.HELD
    bad = ingest(ctx, office, data[:3000])
    assert bad.outcome is IngestOutcome.REJECTED and "truncated" in bad.reason
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, first.photo_id)
        assert ctx.stores.private.get(photo.original_key) == data
        assert photo.camera_serial == "0123456789" and photo.number == 1


def test_original_is_stored_before_the_commit(ctx, school, monkeypatch):
    """If the store write fails, nothing is recorded; a failed commit leaves the original stored."""
    class Broken(Exception):
        pass

    def refuse(*_a, **_k):
        raise Broken

    monkeypatch.setattr(ctx.stores.private, "put", refuse)
    with pytest.raises(Broken):
        ingest(ctx, school["office1"], event_photo())
    with ctx.uow() as uow:
        assert uow.session.scalars(select(Photo)).all() == []


def test_scan_identifies_and_review_flow(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    assert scan_pending(ctx=ctx) == {photo_id: "awaiting_review"}
    with ctx.uow() as uow:
        from consent_db.models import Person

        photo = uow.session.get(Photo, photo_id)
        identified = {uow.session.get(Person, f.person_id).external_id
                      for f in photo.faces if f.person_id}
    assert identified == {"TOM", "EIL"}
    with pytest.raises(PermissionDenied):
        approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["office1"])
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [result] = publish_approved(ctx=ctx, channel=Channel.ONLINE)
    assert result.location and result.refused is None
    assert publish_approved(ctx=ctx, channel=Channel.ONLINE) == []


def test_without_templates_faces_are_not_encoded_and_a_rescan_after_enrolment_identifies(
        ctx, school, monkeypatch):
    asked = []
    find = ctx.faces.find_faces

    def spy(img, look_sideways, encode=True, **options):  # publish_side: the scan's depth
        asked.append(encode)
        return find(img, look_sideways, encode=encode, **options)

    monkeypatch.setattr(ctx.faces, "find_faces", spy)
    with ctx.uow() as uow:
        uow.session.query(FaceTemplate).delete()
        uow.commit()
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    with ctx.uow() as uow:
        faces = uow.session.get(Photo, photo_id).faces
        assert len(faces) >= 2 and all(f.person_id is None for f in faces)
    assert asked == [False]
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())])
    enrol(ctx=ctx, external_id="EIL", photos=[("eil.png", EILEEN.read_bytes())])
    with ctx.uow() as uow:  # the same photo scanned again after enrolment is identified
        uow.session.get(Photo, photo_id).status = PhotoStatus.RECEIVED.value
        uow.commit()
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    assert asked[-1] is True  # enrolment encodes its reference photos through the engine too
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        identified = {uow.session.get(Person, f.person_id).external_id
                      for f in photo.faces if f.person_id}
    assert identified == {"TOM", "EIL"}


def test_uploader_cannot_approve_even_as_editor(ctx, school):
    both = make_user(ctx, "both", "office,editor")
    photo_id = ingest(ctx, both, event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with pytest.raises(PermissionDenied, match="uploaded by both"):
        approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=both)


def test_held_photo_needs_a_dpo(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo(exif=False)).photo_id
    assert scan_pending(ctx=ctx) == {}
    with pytest.raises(PermissionDenied):
        release(ctx=ctx, photo_id=photo_id, user=school["editor1"])
    release(ctx=ctx, photo_id=photo_id, user=school["dpo1"])
    assert scan_pending(ctx=ctx) == {photo_id: "awaiting_review"}
    with pytest.raises(InvalidState):
        release(ctx=ctx, photo_id=photo_id, user=school["dpo1"])


def test_scan_error_blocks_the_photo(ctx, school, monkeypatch, caplog):
    caplog.set_level("DEBUG")
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id

    def explode(*_a, **_k):
        raise RuntimeError("detector crashed")

    monkeypatch.setattr(ctx.faces, "find_faces", explode)
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "blocked"
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo.status == "blocked" and "RuntimeError" in photo.status_reason
    assert "scan of photo" in caplog.text  # the failure is logged ...
    for name in ("GivenTOM", "FamilyTOM", "GivenEIL", "FamilyEIL"):  # ... without personal data
        assert name not in caplog.text
    with pytest.raises(InvalidState):
        approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])


def test_missing_original_blocks_at_scan(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    with ctx.uow() as uow:
        ctx.stores.private.delete(uow.session.get(Photo, photo_id).original_key)
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "blocked"


def test_withdrawal_takes_down_and_leaving_drops_templates(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [res] = publish_approved(ctx=ctx)
    assert recheck_live(ctx=ctx) == []
    consent(ctx, "TOM", granted="no", on=date.today())
    downed = recheck_live(ctx=ctx)
    assert len(downed) == 1
    with ctx.uow() as uow:
        pub = uow.session.get(Publication, downed[0])
        # names nobody (the uploader and others' exports see it); whose: the DPO's audit trail
        assert pub.taken_down_reason == "consent withdrawn or lapsed"
        assert not ctx.stores.public["online"].exists(pub.key)

    # a later academic year: consent lapses for everybody
    assert recheck_live(ctx=ctx, on=date.today() + timedelta(days=400)) == []
    people(ctx, person_row("TOM", left=date.today().isoformat()), person_row("EIL", bio="no"))
    with ctx.uow() as uow:
        assert uow.session.scalars(select(FaceTemplate)).all() == []


def test_safeguarding_flag_blocks(ctx, school):
    people(ctx, person_row("TOM", flag="yes"), person_row("EIL"))
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    assert scan_photo(ctx=ctx, photo_id=photo_id) == PhotoStatus.BLOCKED
    with ctx.uow() as uow:
        assert "safeguarding" in uow.session.get(Photo, photo_id).status_reason


def test_audit_chain_and_no_names(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with ctx.uow() as uow:
        assert verify_chain(uow.session) is None
        text = json.dumps([[e.action, e.details] for e in uow.session.scalars(select(AuditEvent))])
        assert "GivenTOM" not in text and "FamilyTOM" not in text
        first = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        first.details = {"tampered": True}
        uow.commit()
    with ctx.uow() as uow:
        assert verify_chain(uow.session) == first.id


def test_enrolment_refusals(ctx, school):
    from gatekeeper.errors import EnrolmentRefused

    people(ctx, person_row("TOM"), person_row("EIL"), person_row("NOB", bio="no"))
    with pytest.raises(EnrolmentRefused, match="no biometric consent"):
        enrol(ctx=ctx, external_id="NOB", photos=[("t.jpg", TOM.read_bytes())])
    with pytest.raises(EnrolmentRefused, match="two faces: crop the photo to the pupil alone"):
        enrol(ctx=ctx, external_id="TOM", photos=[("g.jpg", event_photo())])
    blank = imagegen.jpeg(Image.new("RGB", (200, 200), (90, 90, 90)))
    with pytest.raises(EnrolmentRefused, match="no face"):
        enrol(ctx=ctx, external_id="TOM", photos=[("b.jpg", blank)])
    with pytest.raises(EnrolmentRefused, match="corrupt|truncated"):
        enrol(ctx=ctx, external_id="TOM", photos=[("c.jpg", TOM.read_bytes()[:4000])])


def test_captions_with_family_or_full_names_are_refused_online(ctx, school):
    from gatekeeper.errors import GatekeeperError

    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with pytest.raises(GatekeeperError, match="a full name"):
        approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"],
                caption="Well done GivenTOM FamilyTOM!")
    with pytest.raises(GatekeeperError, match="a family name"):
        approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"],
                caption="The FamilyTOM's team")
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.PRINT], user=school["editor1"],
            caption="The FamilyTOM's team")  # print allows a family name alone
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"],
            caption="GivenTOM wins the sack race")
    results = {r.channel: r for r in publish_approved(ctx=ctx)}
    with ctx.uow() as uow:
        pub = uow.session.scalar(select(Publication).where(Publication.channel == "online"))
        assert pub.caption == "GivenTOM wins the sack race"
    assert results["print"].location


def test_png_channel_output_is_verified_png(ctx, school):
    ctx = context_like(ctx, png_channels="display")
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.DISPLAY], user=school["editor1"])
    [res] = publish_approved(ctx=ctx)
    data = Path(res.location).read_bytes()
    from gatekeeper.domain.verify import verify_png

    verify_png(data)
    assert re.fullmatch(r"trip-0001-[0-9a-f]{10}\.png", Path(res.location).name)


def test_parallel_scan_uses_worker_processes(ctx, school):
    ids = [ingest(ctx, school["office1"], event_photo(faces)).photo_id
           for faces in (("tom", "eileen"), ("tom",), ("eileen",))]
    assert scan_pending(ctx=ctx, processes=2) == {i: "awaiting_review" for i in ids}
    with ctx.uow() as uow:
        assert all(len(uow.session.get(Photo, i).faces) >= 1 for i in ids)


def test_a_refused_rendition_blocks_the_photo(ctx, school, monkeypatch):
    from gatekeeper.errors import UnsafeOutput
    from gatekeeper.services.photos import publish as publish_service

    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])

    def smuggle(*_a, **_k):
        raise UnsafeOutput("JPEG segment 0xE1 is not allowed in a published file")

    monkeypatch.setattr(publish_service, "encode", smuggle)
    [res] = publish_approved(ctx=ctx)
    assert res.location is None and "0xE1" in res.refused
    assert list(ctx.stores.public["online"].keys()) == []
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo.status == "blocked" and photo.approvals == []


def test_s3_stores_publish_take_down_and_purge_every_version(ctx, school, s3_client):
    import uuid

    from gatekeeper.adapters.storage import S3Store, Stores
    from gatekeeper.services.dpo.purge import apply_purge

    suffix = uuid.uuid4().hex[:8]
    originals, public = f"originals-{suffix}", f"public-{suffix}"
    for bucket in (originals, public):
        s3_client.create_bucket(Bucket=bucket,
                                CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        s3_client.put_bucket_versioning(Bucket=bucket,
                                        VersioningConfiguration={"Status": "Enabled"})
    ctx = context_like(ctx, stores=Stores(
        S3Store(s3_client, originals, encrypt=True),
        {c: S3Store(s3_client, public, prefix=c.value) for c in Channel}))
    photo_id = ingest(ctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [res] = publish_approved(ctx=ctx)
    assert re.fullmatch(rf"s3://{public}/online/trip-0001-[0-9a-f]{{10}}\.jpg", res.location)
    # TOM leaves without consent to retain; 31 days later nothing of him may survive
    people(ctx, person_row("TOM", left=date.today().isoformat()), person_row("EIL"))
    plan = apply_purge(ctx=ctx, today=date.today() + timedelta(days=31))
    assert plan.photos_to_delete == [photo_id]
    for bucket in (originals, public):
        listing = s3_client.list_object_versions(Bucket=bucket)
        assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def test_consent_is_checked_again_on_the_publication_date(ctx, school):
    """Approved while consented, withdrawn before publishing: the face is covered, not shown."""
    photo_id = ingest(ctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    consent(ctx, "TOM", granted="no", on=date.today())
    [res] = publish_approved(ctx=ctx)
    assert res.location
    with ctx.uow() as uow:
        pub = uow.session.scalar(select(Publication))
        assert pub.shown_person_ids == []
    from PIL import Image as PILImage

    published = PILImage.open(res.location).convert("RGB")
    assert [f for f in ctx.faces.find_faces(published, False) if f.box.width > 60] == []


def test_after_a_withdrawal_the_photo_returns_to_review_with_them_covered(ctx, school):
    photo_id = ingest(ctx, school["office1"], event_photo()).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    consent(ctx, "TOM", granted="no", on=date.today())
    assert len(recheck_live(ctx=ctx)) == 1
    assert [p["id"] for p in list_photos(ctx=ctx, status="taken_down")] == [photo_id]
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [again] = publish_approved(ctx=ctx)
    with ctx.uow() as uow:
        live = uow.session.scalar(select(Publication).where(
            Publication.photo_id == photo_id, Publication.taken_down_at.is_(None)))
        tom = uow.session.scalar(select(Person.id).where(Person.external_id == "TOM"))
    assert again.location and live.shown_person_ids and tom not in live.shown_person_ids
