"""Every change of fact after publishing reaches every live copy, through one write path per fact
and a targeted job queued after the commit (issue 24's findings, one test each, every door).

The job queue here runs each reconcile job at once, as the worker would within seconds; a test
with the real worker and the wall clock is in tests/e2e/test_facts_live.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from consent_db.models import AuditEvent, Contact, Face, Person, Photo, PhotoRecheck, Publication
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services import stages
from gatekeeper.services.consent.people import import_csv, record_consent, update_person
from gatekeeper.services.context import Context, NoJobQueue
from gatekeeper.services.dpo.register import person_register
from gatekeeper.services.photos import live, publish
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos.devices import CAMERA_HELD, set_device_active
from gatekeeper.services.photos.review import add_cover, approve, identify_face
from gatekeeper.services.photos.scan import scan_photo
from gatekeeper.services.portal import answers as portal_answers
from gatekeeper.services.portal.contacts import import_contacts
from gatekeeper.services.portal.visits import PortalActor
from tests.integration.helpers import PEOPLE_HEADER, consent, event_photo, ingest, person_row

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CHANNELS = [Channel.ONLINE, Channel.DISPLAY]


class WorkerNow(NoJobQueue):
    """Runs each targeted reconcile job at once (what the worker does within seconds), and
    records what was queued."""

    def __init__(self) -> None:
        self.ctx: Context | None = None
        self.queued: list[list[int]] = []

    def reconcile(self, photo_ids: list[int]) -> None:
        self.queued.append(list(photo_ids))
        assert self.ctx is not None
        live.settle(ctx=self.ctx, photo_ids=photo_ids)


@pytest.fixture
def jobs() -> WorkerNow:
    return WorkerNow()


@pytest.fixture
def wctx(ctx, school, jobs) -> Context:
    """The school's Context with a worker that runs reconcile jobs at once."""
    for ext in ("TOM", "EIL"):
        consent(ctx, ext, channel="display")
    c = Context(ctx.settings, stores=ctx.stores, faces=ctx.faces, jobs=jobs, clock=ctx.today,
                operator="cli:test")
    jobs.ctx = c
    return c


def published(ctx: Context, school, faces=("tom", "eileen")) -> int:
    """An event photo of both pupils, scanned, approved and live online and on display."""
    photo_id = ingest(ctx, school["office1"], event_photo(faces)).photo_id
    scan_photo(ctx=ctx, photo_id=photo_id)
    approve(ctx=ctx, photo_id=photo_id, channels=CHANNELS, user=school["editor1"])
    for channel in CHANNELS:
        assert publish.publish_one(ctx=ctx, photo_id=photo_id, channel=channel,
                                   on=ctx.today()).location
    with ctx.uow() as uow:
        shown = [set(p.shown_person_ids) for p in uow.session.scalars(
            select(Publication).where(Publication.photo_id == photo_id))]
    assert all(len(s) == len(faces) for s in shown), "everyone shown before the change"
    return photo_id


def person_id(ctx: Context, ext: str) -> int:
    with ctx.uow() as uow:
        pid = uow.session.scalar(select(Person.id).where(Person.external_id == ext))
        assert pid is not None
        return pid


def live_copies(ctx: Context, photo_id: int) -> list[Publication]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Publication).where(
            Publication.photo_id == photo_id, Publication.taken_down_at.is_(None))))


def public_keys(ctx: Context) -> set[str]:
    return set().union(*(set(store.keys()) for store in ctx.stores.public.values()))


def assert_not_shown(ctx: Context, photo_id: int, pid: int) -> None:
    """No live copy shows the person, and every object in the public store is a live copy."""
    copies = live_copies(ctx, photo_id)
    assert all(pid not in (p.shown_person_ids or []) for p in copies)
    assert public_keys(ctx) == {p.key for p in copies}
    for p in copies:  # each live copy is exactly what publishing now would write
        assert ctx.stores.public[Channel(p.channel)].get(p.key) == _fresh(ctx, p)


def _fresh(ctx: Context, pub: Publication) -> bytes:
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, pub.photo_id)
        assert photo is not None and photo.original_key
        from gatekeeper.domain.policy import PhotoDecision, Verdict, decide
        from gatekeeper.services.facts import face_facts, person_facts

        d = decide(face_facts(photo), person_facts(uow.session, photo), Channel(pub.channel),
                   ctx.today(), ctx.year_start)
        narrowed = PhotoDecision(None, {
            f.id: Verdict.SHOW if d.faces.get(f.id) is Verdict.SHOW
            and f.person_id in (pub.shown_person_ids or []) else Verdict.COVER
            for f in photo.faces})
        return publish.render(ctx=ctx, photo=photo, decision=narrowed,
                              channel=Channel(pub.channel),
                              data=ctx.stores.private.get(photo.original_key))


def cover_by_hand(ctx: Context, school, photo_id: int, pid: int) -> None:
    """An editor draws a cover a little larger than the person's face box."""
    with ctx.uow() as uow:
        f = uow.session.scalar(select(Face).where(Face.person_id == pid))
        box = (f.left - 5, f.top - 5, f.right + 5, f.bottom + 5)
    add_cover(ctx=ctx, photo_id=photo_id, box=box, user=school["editor1"])


def auto_identified(ctx: Context, photo_id: int, pid: int) -> bool:
    with ctx.uow() as uow:
        return uow.session.scalar(select(Face.id).where(
            Face.photo_id == photo_id, Face.person_id == pid)) is not None


# --- 1. a biometric objection, through each of its doors -------------------------------------

def _object_on_page(ctx, school) -> None:
    update_person(ctx=ctx, external_id="TOM", actor_id=school["dpo1"].id, left_on=None,
                  biometric_consent=False, safeguarding_no_photo=False)


def _object_in_people_csv(ctx, school) -> None:
    import_csv(ctx=ctx, kind="people", actor_id=school["dpo1"].id,
               data=(PEOPLE_HEADER + person_row("TOM", bio="no") + person_row("EIL")).encode())


def _object_in_portal(ctx, school) -> None:
    import_contacts(ctx=ctx, actor_id=school["dpo1"].id, data=(
        b"contact_id,external_id,given_name,family_name,email,parental_responsibility,"
        b"no_contact\nC1,TOM,Ann,Parent,ann@example.org,yes,no\n"))
    with ctx.uow() as uow:
        contact_id = uow.session.scalar(select(Contact.id).where(Contact.ref == "C1"))
    actor = PortalActor("s", contact_id, None, "Ann Parent", "", "contact:C1")
    _year, [card] = portal_answers.children(ctx=ctx, actor=actor)
    portal_answers.decide(ctx=ctx, actor=actor, handle=card.handle,
                          answers={"biometric": False}, signed_name="Ann Parent",
                          client_address="192.0.2.1", user_agent="test")


def _pupil_refuses(ctx, school) -> None:
    portal_answers.record_pupil_refusal(ctx=ctx, external_id="TOM", uses=["biometric"],
                                        note="told the form tutor", actor_id=school["dpo1"].id,
                                        actor_name="dpo1")


@SQLITE
@pytest.mark.parametrize("door", [_object_on_page, _object_in_people_csv, _object_in_portal,
                                  _pupil_refuses])
def test_a_biometric_objection_uncovers_nobody_and_covers_the_child_everywhere(
        wctx, school, jobs, door):
    photo_id = published(wctx, school)
    tom = person_id(wctx, "TOM")
    assert auto_identified(wctx, photo_id, tom)
    door(wctx, school)
    assert [photo_id] in jobs.queued, "a targeted reconcile job is queued after the commit"
    assert not auto_identified(wctx, photo_id, tom), "recognition through templates withdrawn"
    assert len(live_copies(wctx, photo_id)) == 2, "re-rendered covering the child, still live"
    assert_not_shown(wctx, photo_id, tom)
    with wctx.uow() as uow:
        assert uow.session.scalar(select(PhotoRecheck.photo_id)) is None


@SQLITE
def test_a_face_named_by_eye_stays_named_after_an_objection(wctx, school):
    photo_id = published(wctx, school)
    tom = person_id(wctx, "TOM")
    with wctx.uow() as uow:
        face_id = uow.session.scalar(select(Face.id).where(Face.person_id == tom))
    identify_face(ctx=wctx, face_id=face_id, external_id="TOM", user=school["editor1"])
    _object_on_page(wctx, school)
    assert auto_identified(wctx, photo_id, tom), "an editor's eye is not biometric processing"


# --- 2. a safeguarding flag set after publishing, and lifted -------------------------------

def _flag(ctx, school, on: bool) -> None:
    update_person(ctx=ctx, external_id="EIL", actor_id=school["dpo1"].id, left_on=None,
                  biometric_consent=True, safeguarding_no_photo=on)


def _flag_in_csv(ctx, school, on: bool) -> None:
    import_csv(ctx=ctx, kind="people", actor_id=school["dpo1"].id, data=(
        PEOPLE_HEADER + person_row("TOM") + person_row("EIL", flag="yes" if on else "no"))
        .encode())


@SQLITE
@pytest.mark.parametrize("door", [_flag, _flag_in_csv])
def test_a_flag_takes_live_copies_down_at_once_and_lifting_it_returns_the_photo(
        wctx, school, jobs, door):
    photo_id = published(wctx, school)
    door(wctx, school, True)
    assert live_copies(wctx, photo_id) == [] and public_keys(wctx) == set()
    with wctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo.status == "blocked" and photo.status_reason.startswith("safeguarding:")
    assert photo_read.status_counts(ctx=wctx).get("blocked") == 1
    door(wctx, school, False)
    with wctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert (photo.status, photo.status_reason) == ("awaiting_review", None)
        assert photo.approvals == [], "showing again needs a new approval"
    assert "blocked" not in photo_read.status_counts(ctx=wctx)
    assert photo_read.list_photos(ctx=wctx, status="taken_down")[0]["id"] == photo_id


@SQLITE
def test_naming_a_face_again_lifts_a_block_whose_cause_is_gone(wctx, school):
    photo_id = published(wctx, school)
    eil = person_id(wctx, "EIL")
    _flag(wctx, school, True)
    with wctx.uow() as uow:  # the flag lifted by hand in the database: only the cache is stale
        uow.session.get(Person, eil).safeguarding_no_photo = False
        uow.commit()
        face_id = uow.session.scalar(select(Face.id).where(Face.person_id == eil))
    identify_face(ctx=wctx, face_id=face_id, external_id="EIL", user=school["editor1"])
    with wctx.uow() as uow:
        assert uow.session.get(Photo, photo_id).status == "awaiting_review"


# --- 3. a lost camera ----------------------------------------------------------------------

@SQLITE
def test_deactivating_a_camera_holds_and_takes_down_its_photos_and_reactivating_releases(
        wctx, school):
    live_id = published(wctx, school)
    waiting = ingest(wctx, school["office1"], event_photo(("tom",))).photo_id
    scan_photo(ctx=wctx, photo_id=waiting)
    change = set_device_active(ctx=wctx, device_id=1, active=False, actor_id=school["dpo1"].id)
    assert set(change.held) == {live_id, waiting}
    assert live_copies(wctx, live_id) == [] and public_keys(wctx) == set()
    later = ingest(wctx, school["office1"], event_photo(("eileen",)))  # while it is lost
    with wctx.uow() as uow:
        assert uow.session.get(Photo, live_id).status_reason == CAMERA_HELD
        assert uow.session.get(Photo, later.photo_id).status == "held"
    change = set_device_active(ctx=wctx, device_id=1, active=True, actor_id=school["dpo1"].id)
    assert set(change.released) == {live_id, waiting, later.photo_id}
    with wctx.uow() as uow:
        statuses = {p.id: (p.status, p.status_reason) for p in uow.session.scalars(select(Photo))}
    assert statuses[live_id] == ("awaiting_review", None)
    assert statuses[waiting] == ("awaiting_review", None)
    assert statuses[later.photo_id] == ("received", None)


@SQLITE
def test_a_camera_lost_on_a_date_keeps_what_it_took_before(wctx, school):
    photo_id = published(wctx, school)  # the generated photo was taken in the past
    set_device_active(ctx=wctx, device_id=1, active=False, actor_id=None,
                      since=date.today() + timedelta(days=1))
    assert len(live_copies(wctx, photo_id)) == 2


# --- 4. a withdrawal on paper is targeted, not a sweep over the archive -------------------

@SQLITE
def test_a_paper_withdrawal_queues_exactly_the_childs_photos(wctx, school, jobs):
    tom_only = published(wctx, school, ("tom",))
    eil_only = published(wctx, school, ("eileen",))
    jobs.queued.clear()
    record_consent(ctx=wctx, external_id="EIL", academic_year=_year(wctx), channel="online",
                   granted=False, recorded_on=wctx.today(), evidence="letter",
                   actor_id=school["dpo1"].id)
    assert jobs.queued == [[eil_only]]
    assert [p.channel for p in live_copies(wctx, eil_only)] == ["display"]
    assert len(live_copies(wctx, tom_only)) == 2
    csv = ("external_id,academic_year,channel,granted,recorded_on,evidence\n"
           f"TOM,{_year(wctx)},display,no,{wctx.today().isoformat()},letter\n")
    import_csv(ctx=wctx, kind="consent", data=csv.encode(), actor_id=school["dpo1"].id)
    assert jobs.queued[-1] == [tom_only]
    assert [p.channel for p in live_copies(wctx, tom_only)] == ["online"]


def _year(ctx: Context) -> str:
    from gatekeeper.domain.retention import academic_year

    return academic_year(ctx.today(), *ctx.year_start)


@SQLITE
def test_a_lost_job_is_settled_by_the_sweep_and_an_idle_sweep_touches_nothing(ctx, school):
    for ext in ("TOM", "EIL"):
        consent(ctx, ext, channel="display")
    photo_id = published(ctx, school)  # NoJobQueue: the job is lost
    update_person(ctx=ctx, external_id="EIL", actor_id=None, left_on=None,
                  biometric_consent=True, safeguarding_no_photo=True)
    assert len(live_copies(ctx, photo_id)) == 2
    settled = live.sweep_dirty(ctx=ctx, grace=timedelta(0))
    assert settled.photos == 1 and live_copies(ctx, photo_id) == []
    assert live.sweep_dirty(ctx=ctx, grace=timedelta(0)).photos == 0


# --- 6. one stage, with its cause, everywhere ---------------------------------------------

@SQLITE
def test_every_view_tells_the_same_stage(wctx, school):
    photo_id = published(wctx, school)
    [row] = photo_read.list_photos(ctx=wctx, status="published")
    assert (row["id"], row["stage"], row["channels_live"]) == (photo_id, "published",
                                                               ["display", "online"])
    queue = photo_read.review_queue(ctx=wctx, status="published", event=None, page=1)
    assert [p["stage_label"] for p in queue.photos] == ["published (display, online)"]
    reg = person_register(ctx=wctx, external_id="TOM")
    assert reg["photos"][0]["stage"]["stage"] == "published"
    for stage in stages.STAGES:  # the SQL filter and the function agree
        ids = {r["id"] for r in photo_read.list_photos(ctx=wctx, status=stage.value)}
        assert (photo_id in ids) == (stage is stages.Stage.PUBLISHED)


@SQLITE
def test_a_hand_cover_over_a_recognised_face_counts_as_covered(wctx, school):
    photo_id = published(wctx, school)
    tom = person_id(wctx, "TOM")
    cover_by_hand(wctx, school, photo_id, tom)
    reg = person_register(ctx=wctx, external_id="TOM")
    assert set(reg["photos"][0]["channels"].values()) == {"covered"}
    detail = photo_read.photo_detail(ctx=wctx, photo_id=photo_id)
    assert len(detail["channels"]["online"]["shown_faces"]) == 1
    assert_not_shown(wctx, photo_id, tom)


@SQLITE
def test_an_erasure_on_request_reads_as_erasure_not_retention(wctx, school):
    from gatekeeper.services.dpo.purge import erase_person

    photo_id = published(wctx, school, ("tom",))
    erase_person(ctx=wctx, external_id="TOM", user=school["dpo1"])
    [row] = photo_read.list_photos(ctx=wctx, status="erased")
    assert row["id"] == photo_id and row["stage_label"] == "erased on request"
    with wctx.uow() as uow:
        reasons = set(uow.session.scalars(select(Publication.taken_down_reason)))
    assert reasons == {"erased on request"}


# --- 7. every audit event names its actor --------------------------------------------------

def test_init_names_who_created_the_first_admin(tmp_path):
    from gatekeeper.config import Settings
    from gatekeeper.services.accounts.instance import initialise

    settings = Settings(home=tmp_path / "home")
    initialise(settings=settings, admin="admin", operator="cli:someone")
    ctx = Context(settings)
    with ctx.uow() as uow:
        events = list(uow.session.scalars(select(AuditEvent)))
    ctx.close()
    assert events and all(e.actor_id is not None or e.details.get("by") for e in events)


@SQLITE
def test_the_cameras_page_deactivates_from_a_day_and_reactivates(wctx, school):
    from fastapi.testclient import TestClient

    from tests.security.test_probe_findings import client_for
    from web.app import create_app

    photo_id = published(wctx, school)
    app = create_app(wctx.settings, wctx)
    with TestClient(app):
        dpo, csrf = client_for(app, "dpo1")
        page = dpo.get("/devices").text
        assert "Camera 1 lost on" in page and 'id="deactivate-help"' in page
        bad = dpo.post("/devices/1/active", data={"active": "", "since": "31/02/2026",
                                                   "csrf": csrf})
        assert bad.status_code == 400 and "not a date" in bad.text
        later = (date.today() + timedelta(days=1)).isoformat()
        assert dpo.post("/devices/1/active", data={"active": "", "since": later,
                                                    "csrf": csrf}).status_code == 303
        assert len(live_copies(wctx, photo_id)) == 2, "taken before the day it was lost"
        dpo.post("/devices/1/active", data={"active": "yes", "csrf": csrf})
        dpo.post("/devices/1/active", data={"active": "", "since": "", "csrf": csrf})
        assert live_copies(wctx, photo_id) == [], "no day given: every live photo comes down"


@SQLITE
def test_live_now_lists_each_live_copy_with_its_channel_and_caption(wctx, school):
    from fastapi.testclient import TestClient

    from tests.security.test_probe_findings import client_for
    from web.app import create_app

    photo_id = published(wctx, school)
    with wctx.uow() as uow:
        pub = uow.session.scalar(select(Publication).where(Publication.channel == "online"))
        pub.caption = "Sports day relay"
        uow.commit()
    app = create_app(wctx.settings, wctx)
    with TestClient(app):
        editor, _ = client_for(app, "editor1")
        page = editor.get("/live").text
        assert f'href="/photos/{photo_id}"' in page and "Sports day relay" in page
        assert page.count("<tr>") == 3  # the header and two live copies
        online = editor.get("/live?channel=online").text
        assert online.count("<tr>") == 2
        _flag(wctx, school, True)
        assert 'id="nothing-live"' in editor.get("/live").text


@SQLITE
def test_an_erasure_rerenders_copies_that_did_not_show_them_from_the_covered_original(
        wctx, school):
    """Found by the property test: TOM covered by hand, so no live copy shows him; erasing him
    rewrites the original covered, and the live copies must follow the new original."""
    from gatekeeper.services.dpo.purge import erase_person

    photo_id = published(wctx, school)
    tom = person_id(wctx, "TOM")
    cover_by_hand(wctx, school, photo_id, tom)
    assert len(live_copies(wctx, photo_id)) == 2
    erase_person(ctx=wctx, external_id="TOM", user=school["dpo1"])
    assert len(live_copies(wctx, photo_id)) == 2, "EIL is still shown where she consented"
    assert_not_shown(wctx, photo_id, tom)  # each copy equals a fresh render of the new original
