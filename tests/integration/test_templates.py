"""More and fresher templates: provenance, the refresh list, removing a wrong template (fail
closed, audited), faces editors confirm becoming templates only with the DPO's option, and
biometric consent withdrawal deleting every template of every model."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent_db.models import AuditEvent, Face, FaceTemplate, Person, Photo
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidInput, PermissionDenied
from gatekeeper.services.accounts.options import change_option, list_options
from gatekeeper.services.consent.enrol import add_confirmed_template
from gatekeeper.services.consent.people import update_person
from gatekeeper.services.consent.templates import remove_template, stale_csv, stale_templates
from gatekeeper.services.context import Context, NoJobQueue
from gatekeeper.services.photos.review import approve, identify_face
from gatekeeper.services.photos.scan import scan_photo
from tests.integration.helpers import event_photo, ingest, people, person_row

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
OPTION = "confirmed_faces_become_templates"


class RecordingJobs(NoJobQueue):
    def __init__(self) -> None:
        self.confirmed: list[tuple[int, int | None]] = []

    def confirmed_template(self, face_id: int, actor_id: int | None) -> None:
        self.confirmed.append((face_id, actor_id))


def _templates(ctx, ext: str) -> list[FaceTemplate]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(FaceTemplate).join(Person).where(
            Person.external_id == ext).order_by(FaceTemplate.id)))


def _events(ctx, action: str) -> list[AuditEvent]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.id)))


def _scanned(ctx, school, faces=("tom", "eileen")) -> tuple[int, dict[str, int]]:
    """A scanned event photo, taken today, and the face id identified as each person."""
    photo_id = ingest(ctx, school["office1"], event_photo(faces, taken=datetime.now())).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    with ctx.uow() as uow:
        ids = {uow.session.get(Person, f.person_id).external_id: f.id
               for f in uow.session.scalars(select(Face).where(Face.photo_id == photo_id))
               if f.person_id is not None}
    return photo_id, ids


@SQLITE
def test_templates_record_their_year_and_age_band_and_go_stale_at_rollover(ctx, school):
    people(ctx, person_row("NEW"), person_row("NOBIO", bio="no"),
           person_row("GONE", left="2024-07-20"))
    [tom] = _templates(ctx, "TOM")
    this_year = academic_year(date.today(), *ctx.year_start)
    assert (tom.age_band, tom.academic_year, tom.source) == ("Y5-Y6", this_year, "reference")
    assert tom.sface_encoding is not None and tom.added_by_id is None
    # this year: only the pupil with consent and no template at all is due
    assert [r.external_id for r in stale_templates(ctx=ctx)] == ["NEW"]
    rollover = date(int(this_year[:4]) + 1, *ctx.year_start)
    later = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces, clock=lambda: rollover)
    rows = stale_templates(ctx=later)
    assert sorted(r.external_id for r in rows) == ["EIL", "NEW", "TOM"]
    due = {r.external_id: r for r in rows}
    assert due["TOM"].templates == 1 and due["TOM"].newest_year == this_year
    assert due["NEW"].templates == 0 and due["NEW"].newest_on is None
    text = stale_csv(rows)
    assert text.splitlines()[0].startswith("external_id,given_name,family_name,year_group")
    assert f"TOM,GivenTOM,FamilyTOM,Year 5,Y5-Y6,1,{date.today().isoformat()},{this_year}" in text
    later.close()


def test_removing_a_template_covers_its_matches_and_is_audited(ctx, school):
    photo_id, faces = _scanned(ctx, school)
    assert set(faces) == {"TOM", "EIL"}
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=school["editor1"])
    [tom] = _templates(ctx, "TOM")
    with pytest.raises(PermissionDenied):
        remove_template(ctx=ctx, template_id=tom.id, reason="wrong person", user=school["editor1"])
    with pytest.raises(InvalidInput, match="without names"):
        remove_template(ctx=ctx, template_id=tom.id, reason="it is FamilyEIL",
                        user=school["dpo1"])
    with ctx.uow() as uow:
        revision = uow.session.get(Photo, photo_id).revision
    done = remove_template(ctx=ctx, template_id=tom.id, reason="wrong person",
                           user=school["dpo1"])
    assert (done.external_id, done.faces_covered, done.photo_ids) == ("TOM", 1, (photo_id,))
    assert _templates(ctx, "TOM") == []
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        by_face = {f.id: f.person_id for f in photo.faces}
        assert by_face[faces["TOM"]] is None  # covered: fail closed
        assert by_face[faces["EIL"]] is not None  # someone else's match stands
        assert photo.approvals == [] and photo.revision == revision + 1
    [event] = _events(ctx, "template.removed")
    assert event.actor_id == school["dpo1"].id
    assert {k: event.details[k] for k in ("template_id", "reason", "faces_covered",
                                          "photo_ids")} == {
        "template_id": tom.id, "reason": "wrong person", "faces_covered": 1,
        "photo_ids": [photo_id]}


@SQLITE
def test_a_confirmed_face_becomes_a_template_only_with_the_dpo_option(ctx, school):
    jobs = RecordingJobs()
    editor = school["editor1"]
    web = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces, jobs=jobs)
    photo_id, faces = _scanned(ctx, school, ("tom",))
    face_id = faces["TOM"]
    # off (the default): nothing queued, and the worker adds nothing either
    identify_face(ctx=web, face_id=face_id, external_id="TOM", user=editor)
    assert jobs.confirmed == []
    assert add_confirmed_template(ctx=ctx, face_id=face_id, actor_id=editor.id) == "not allowed"
    assert len(_templates(ctx, "TOM")) == 1
    # only the DPO turns it on; the change is audited
    with pytest.raises(PermissionDenied):
        change_option(ctx=ctx, key=OPTION, text="yes", user=editor)
    assert change_option(ctx=ctx, key=OPTION, text="yes", user=school["dpo1"])
    assert {o.key: o.value for o in list_options(ctx=ctx)}[OPTION] is True
    assert _events(ctx, "option.set")[-1].details == {"key": OPTION, "old": False, "new": True}
    identify_face(ctx=web, face_id=face_id, external_id="TOM", user=editor)
    assert jobs.confirmed == [(face_id, editor.id)]
    assert add_confirmed_template(ctx=ctx, face_id=face_id, actor_id=editor.id) == "added"
    assert add_confirmed_template(ctx=ctx, face_id=face_id, actor_id=editor.id) == "exists"
    reference, confirmed = _templates(ctx, "TOM")
    assert (confirmed.source, confirmed.source_face_id, confirmed.added_by_id) == (
        "confirmed", face_id, editor.id)
    assert confirmed.age_band == "Y5-Y6" and confirmed.sface_encoding is not None
    # the template is the confirmed face itself: the same person as the reference photo
    dist = np.linalg.norm(np.frombuffer(confirmed.encoding, "<f8")
                          - np.frombuffer(reference.encoding, "<f8"))
    assert dist < 0.35
    [added] = _events(ctx, "template.added")
    assert added.details["face_id"] == face_id and added.details["template_id"] == confirmed.id
    # a person without biometric consent: nothing is queued for them
    people(ctx, person_row("NOBIO", bio="no"))
    identify_face(ctx=web, face_id=face_id, external_id="NOBIO", user=editor)
    assert jobs.confirmed == [(face_id, editor.id)]
    # ...and naming the face again contradicts the confirmation: its template goes
    assert [t.source for t in _templates(ctx, "TOM")] == ["reference"]
    assert _events(ctx, "template.removed")[-1].details["source_face_id"] == face_id
    web.close()


@SQLITE
def test_only_a_face_of_this_school_year_becomes_a_template(ctx, school):
    """Issue 29: a confirmed face is a fresher template only when its photo was taken this
    school year; an older photo named now would pass for this year's face and take the person
    off the refresh list. Nothing is queued for it, and the worker refuses it, audited."""
    jobs = RecordingJobs()
    editor = school["editor1"]
    web = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces, jobs=jobs)
    assert change_option(ctx=ctx, key=OPTION, text="yes", user=school["dpo1"])
    photo_id, faces = _scanned(ctx, school, ("tom",))
    this_year = academic_year(date.today(), *ctx.year_start)
    with ctx.uow() as uow:  # the camera's date: two school years ago
        uow.session.get(Photo, photo_id).taken_at = datetime(int(this_year[:4]) - 2, 10, 1, 10)
        uow.commit()
    identify_face(ctx=web, face_id=faces["TOM"], external_id="TOM", user=editor)
    assert jobs.confirmed == []
    assert add_confirmed_template(ctx=ctx, face_id=faces["TOM"],
                                  actor_id=editor.id) == "not this school year"
    assert [t.source for t in _templates(ctx, "TOM")] == ["reference"]
    [refused] = _events(ctx, "template.refused")
    assert refused.details["reason"].startswith("the photo is not of this school year")
    # the same face, its photo taken this school year: a template recorded as this year's
    with ctx.uow() as uow:
        uow.session.get(Photo, photo_id).taken_at = datetime.combine(date.today(), time(10))
        uow.commit()
    identify_face(ctx=web, face_id=faces["TOM"], external_id="TOM", user=editor)
    assert jobs.confirmed == [(faces["TOM"], editor.id)]
    assert add_confirmed_template(ctx=ctx, face_id=faces["TOM"], actor_id=editor.id) == "added"
    reference, confirmed = _templates(ctx, "TOM")
    assert (confirmed.source, confirmed.academic_year, confirmed.age_band) == (
        "confirmed", this_year, "Y5-Y6")
    web.close()


@SQLITE
def test_withdrawing_biometric_consent_deletes_every_template_of_every_model(ctx, school):
    from workers.queue import HueyJobQueue
    from workers.tasks import make_huey

    change_option(ctx=ctx, key=OPTION, text="yes", user=school["dpo1"])
    _, faces = _scanned(ctx, school, ("tom",))
    # through the real queue wiring (huey's immediate mode runs the worker's task at once)
    queued = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces,
                     jobs=HueyJobQueue(make_huey(ctx.settings, immediate=True, ctx=ctx)))
    identify_face(ctx=queued, face_id=faces["TOM"], external_id="TOM", user=school["editor1"])
    queued.close()
    assert {t.source for t in _templates(ctx, "TOM")} == {"reference", "confirmed"}
    update_person(ctx=ctx, external_id="TOM", actor_id=school["dpo1"].id, left_on=None,
                  biometric_consent=False, safeguarding_no_photo=False)
    assert _templates(ctx, "TOM") == []  # dlib and SFace vectors live in the same rows
    assert len(_templates(ctx, "EIL")) == 1
    # and the worker will not add one back from an older confirmation
    assert add_confirmed_template(ctx=ctx, face_id=faces["TOM"], actor_id=None) == "not allowed"


@SQLITE
def test_the_dpo_sees_templates_and_removes_one_on_the_person_page(ctx, school):
    from tests.integration.test_web_roles import signed_in
    from web.app import create_app

    app = create_app(ctx.settings, ctx)
    [tom] = _templates(ctx, "TOM")
    with TestClient(app):
        client, token = signed_in(app, "dpo1")
        page = client.get("/people/TOM").text
        assert f'id="remove-template-{tom.id}"' in page and "Y5-Y6" in page
        assert "/templates" in page and "/options" in page  # the DPO's menu
        assert client.get("/templates").status_code == 200
        editor, editor_token = signed_in(app, "editor1")
        for path in (f"/templates/{tom.id}/remove", f"/options/{OPTION}"):
            assert editor.post(path, data={"reason": "x", "value": "yes",
                                           "csrf": editor_token}).status_code == 403
        assert editor.get("/templates").status_code == 403
        resp = client.post(f"/templates/{tom.id}/remove", data={"reason": "blurred photo",
                                                               "csrf": token})
        assert resp.status_code == 303 and resp.headers["location"].startswith("/people/TOM")
        assert _templates(ctx, "TOM") == []
        resp = client.post(f"/options/{OPTION}", data={"value": "yes", "csrf": token})
        assert resp.status_code == 303
        assert re.search(r'name="value" value="yes"\s+checked', client.get("/options").text)


@SQLITE
def test_a_person_keeps_at_most_ten_templates_the_oldest_going_first(ctx, school):
    from gatekeeper.services.consent.enrol import enrol
    from tests.integration.helpers import TOM

    [first] = _templates(ctx, "TOM")
    enrol(ctx=ctx, external_id="TOM", photos=[("tom.jpg", TOM.read_bytes())] * 10)
    kept = _templates(ctx, "TOM")
    assert len(kept) == 10 and first.id not in {t.id for t in kept}
    [capped] = [e for e in _events(ctx, "template.deleted") if e.details.get("reason") == "cap"]
    assert capped.details["template_id"] == first.id
