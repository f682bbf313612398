"""Both embeddings through the services: enrolment stores the SFace vector in the same template
row as dlib's, scanning identifies with the fused rule, and withdrawing biometric consent deletes
every template of every model."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from consent_db.models import Face, FaceTemplate, Person
from gatekeeper.adapters.sface import MODEL_NAME
from gatekeeper.services.consent.enrol import enrol
from gatekeeper.services.consent.gallery import load_gallery
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.photos.scan import scan_photo
from tests import imagegen
from tests.integration.helpers import EILEEN, TOM, consent, people, person_row, users


def test_templates_hold_both_models_and_withdrawal_deletes_them(ctx):
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("EIL"))
    for ext in ("TOM", "EIL"):
        consent(ctx, ext)
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())])
    enrol(ctx=ctx, external_id="EIL", photos=[("eil.png", EILEEN.read_bytes())])
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(FaceTemplate)).all()
        assert len(rows) == 2
        for t in rows:
            assert len(t.encoding) == 128 * 8 and t.sface_model == MODEL_NAME
            v = np.frombuffer(t.sface_encoding, "<f4")
            assert v.shape == (128,) and abs(float(np.linalg.norm(v)) - 1) < 1e-4
            assert t.created_at is not None
        gallery = load_gallery(uow.session)
        assert len(gallery) == 2 and not np.isnan(gallery.sface).any()

    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    faces = [imagegen.load(TOM), imagegen.load(EILEEN).crop((120, 20, 330, 230))]
    canvas, _ = imagegen.row_of_faces(faces, height=380)
    photo_id = ingest_bytes(ctx=ctx, data=imagegen.jpeg(canvas, imagegen.exif_bytes()), name="x.jpg",
                            event_name="Trip", actor_id=u["office1"].id).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with ctx.uow() as uow:
        found = uow.session.scalars(select(Face).where(Face.photo_id == photo_id)).all()
        ids = [f.person_id for f in found if f.person_id is not None]
        names = sorted(uow.session.get(Person, i).external_id for i in ids)
        assert names == ["EIL", "TOM"]

    people(ctx, person_row("TOM", bio="no"), person_row("EIL"))  # TOM withdraws biometric consent
    with ctx.uow() as uow:
        left = uow.session.scalars(select(FaceTemplate)).all()
        assert [t.person.external_id for t in left] == ["EIL"]
        assert len(load_gallery(uow.session)) == 1


def test_template_from_before_the_second_model_loads_as_legacy(ctx):
    people(ctx, person_row("OLD"))
    with ctx.uow() as uow:
        person = uow.session.scalar(select(Person).where(Person.external_id == "OLD"))
        uow.session.add(FaceTemplate(person_id=person.id, encoding=np.zeros(128, "<f8").tobytes(),
                                     source_sha256="0" * 64, quality=1.0))
        uow.commit()
    with ctx.uow() as uow:
        gallery = load_gallery(uow.session)
        assert len(gallery) == 1 and np.isnan(gallery.sface).all()


def test_pupils_are_children_in_the_gallery_staff_are_not(ctx):
    """Issue 29: the fused rule holds pupils to the child threshold, so the gallery says who is
    a pupil; staff keep the adult rule."""
    people(ctx, person_row("TOM"), "EIL,GivenEIL,FamilyEIL,staff,,2020-09-01,,yes,no\n")
    for ext in ("TOM", "EIL"):
        consent(ctx, ext)
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())])
    enrol(ctx=ctx, external_id="EIL", photos=[("eil.png", EILEEN.read_bytes())])
    with ctx.uow() as uow:
        ids = {p.external_id: p.id for p in uow.session.scalars(select(Person))}
        gallery = load_gallery(uow.session)
    assert gallery.children is not None
    marked = dict(zip(gallery.person_ids.tolist(), gallery.children.tolist(), strict=True))
    assert marked == {ids["TOM"]: True, ids["EIL"]: False}
