"""The DPO's register, subject access export, erasure on request and deletion certificates."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, update

from consent_db.models import AuditEvent, Person, Photo
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import NotFound, PermissionDenied
from gatekeeper.services.auditing import (
    certificate_html,
    certificate_pdf,
    certificates,
    check_audit,
)
from gatekeeper.services.dpo.purge import erase_person, plan_erasure
from gatekeeper.services.dpo.register import person_register, subject_access_export
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from tests import imagegen
from tests.integration.helpers import EILEEN, event_photo, ingest


def _scanned(ctx, school, faces):
    photo_id = ingest(ctx, school["office1"], event_photo(faces)).photo_id
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    return photo_id


def test_register_lists_photos_publications_and_consent(ctx, school):
    both = _scanned(ctx, school, ("tom", "eileen"))
    approve(ctx=ctx, photo_id=both, channels=[Channel.ONLINE], user=school["editor1"])
    publish_approved(ctx=ctx)
    reg = person_register(ctx=ctx, external_id="EIL")
    [photo] = reg["photos"]
    assert photo["photo_id"] == both and photo["channels"]["online"] == "shown"
    assert photo["publications"][0]["showed_them"] is True
    assert reg["consent_history"][0]["kind"] == "online" and reg["face_templates"]
    assert any(e["action"] == "person.enrolled" for e in reg["audit"])


def test_subject_access_export_covers_everyone_else(ctx, school, face_engine):
    both = _scanned(ctx, school, ("tom", "eileen"))
    export = subject_access_export(ctx=ctx, external_id="TOM", user=school["dpo1"])
    zf = zipfile.ZipFile(io.BytesIO(export.data))
    names = zf.namelist()
    assert f"photos/photo-{both:06d}.jpg" in names and "summary.html" in names
    manifest = json.loads(zf.read("manifest.json"))
    assert set(manifest) == set(names) - {"manifest.json"} and "summary.pdf" in manifest
    for name, digest in manifest.items():
        assert hashlib.sha256(zf.read(name)).hexdigest() == digest
    assert zf.read("summary.pdf").startswith(b"%PDF-") and b"%%EOF" in zf.read("summary.pdf")[-64:]
    for name in names:
        if name.endswith((".json", ".html")):
            text = zf.read(name).decode()
            assert "GivenEIL" not in text and "FamilyEIL" not in text and '"EIL"' not in text
    photo = Image.open(io.BytesIO(zf.read(f"photos/photo-{both:06d}.jpg"))).convert("RGB")
    [eileen] = [f for f in face_engine.find_faces(imagegen.load(EILEEN), look_sideways=False)
                if f.encoding is not None]  # the portrait's face, not a speck covered in it
    for face in face_engine.find_faces(photo, look_sideways=False):
        if face.encoding is not None:
            assert np.linalg.norm(face.encoding - eileen.encoding) > 0.6
    with pytest.raises(PermissionDenied):
        subject_access_export(ctx=ctx, external_id="TOM", user=school["editor1"])


def test_erasure_leaves_nothing_and_issues_a_verifiable_certificate(ctx, school):
    both = _scanned(ctx, school, ("tom", "eileen"))
    alone = _scanned(ctx, school, ("eileen",))
    approve(ctx=ctx, photo_id=alone, channels=[Channel.ONLINE], user=school["editor1"])
    [pub] = publish_approved(ctx=ctx)
    plan = plan_erasure(ctx=ctx, external_id="EIL")
    assert plan.photos_to_delete == [alone] and list(plan.photos_to_cover) == [both]
    with pytest.raises(PermissionDenied):
        erase_person(ctx=ctx, external_id="EIL", user=school["editor1"])
    eil_id = school_person_id(ctx, "EIL")
    erase_person(ctx=ctx, external_id="EIL", user=school["dpo1"])
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Person).where(Person.external_id == "EIL")) is None
        gone = uow.session.get(Photo, alone)
        assert gone.status == "purged" and gone.original_key is None
        kept = uow.session.get(Photo, both)
        assert all(f.person_id != eil_id and eil_id not in (f.near_person_ids or [])
                   for f in kept.faces)
    assert not list(ctx.stores.public[Channel.ONLINE].keys())
    with pytest.raises(NotFound, match="no person"):
        subject_access_export(ctx=ctx, external_id="EIL", user=school["dpo1"])
    [cert] = certificates(ctx=ctx)
    assert cert["kind"] == "erasure" and cert["photos_deleted"] == [alone]
    assert cert["deleted"]["originals"] == 1 and cert["deleted"]["public_objects"] == 1
    assert check_audit(ctx=ctx).problem is None
    text = " ".join(re.sub(r"<[^>]+>", " ", certificate_html(ctx=ctx, certificate_id=cert["id"])).split())
    assert f"Deletion certificate {cert['id']}" in text and "Erasure on request" in text
    assert "by dpo1" in text and "the audit chain is intact" in text and cert["hash"] in text
    assert f"photos deleted (original, review copy and every published copy) {len([alone])}" in text
    assert f"originals {cert['deleted']['originals']}" in text and f"Photos deleted: {alone}." in text
    assert "GivenEIL" not in text and "EIL" not in text
    assert certificate_pdf(ctx=ctx, certificate_id=cert["id"]).startswith(b"%PDF-")
    with pytest.raises(NotFound):
        certificate_html(ctx=ctx, certificate_id=1)  # an audit event, but no certificate
    with ctx.uow() as uow:  # a tampered certificate fails verification
        uow.session.execute(update(AuditEvent).where(AuditEvent.id == cert["id"]).values(
            details={**{k: v for k, v in cert.items() if k not in ("id", "at", "by", "hash")},
                     "photos_deleted": []}))
        uow.commit()
    assert "broken" in check_audit(ctx=ctx).problem
    assert "does NOT verify" in certificate_html(ctx=ctx, certificate_id=cert["id"])
    assert pub.location


def school_person_id(ctx, external_id: str) -> int | None:
    with ctx.uow() as uow:
        return uow.session.scalar(select(Person.id).where(Person.external_id == external_id))
