"""A change of fact reaching the public store with 10 000 live publications, on the embedded
default (SQLite, local stores): one change through each door, timed from the door's call to
the end of the targeted job the worker runs for it (target <= 60 s each); the minute sweep with
nothing changed (target < 1 s); and the daily full re-check, for comparison (what the sweep
used to cost every minute).
"""

from __future__ import annotations

import io
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import insert, select

from .common import BENCH_PASSWORD, write

N_PHOTOS, N_PEOPLE, FACES = 10_000, 2_000, 3
SERIAL = "LOSTCAM1"


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.kron(rng.integers(0, 255, (12, 16, 3)), np.ones((40, 40, 1))).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _populate(ctx, today: date, year: str) -> None:
    """People with consent for every use, photos of three each, all live online."""
    from consent_db.models import ConsentRecord, Event, Face, Person, Photo, Publication

    rng = np.random.default_rng(7)
    store = ctx.stores.public[__import__("gatekeeper.domain.vocabulary",
                                         fromlist=["Channel"]).Channel.ONLINE]
    original = _jpeg(1)
    with ctx.engine.begin() as conn:
        conn.execute(insert(Person), [
            {"id": i, "external_id": f"UPN{i:05d}", "given_name": f"G{i}", "family_name": f"F{i}",
             "kind": "pupil", "year_group": "Year 5", "biometric_consent": True,
             "safeguarding_no_photo": False} for i in range(1, N_PEOPLE + 1)])
        conn.execute(insert(ConsentRecord), [
            {"person_id": i, "academic_year": year, "channel": use, "granted": True,
             "recorded_on": today, "evidence": "form"}
            for i in range(1, N_PEOPLE + 1) for use in ("display", "print", "online")])
        conn.execute(insert(Event), [{"id": 1, "name": "Bench", "slug": "bench",
                                      "next_number": N_PHOTOS + 1}])
        photos, faces, pubs = [], [], []
        for pid in range(1, N_PHOTOS + 1):
            people = [int(p) for p in rng.choice(np.arange(1, N_PEOPLE + 1), FACES,
                                                 replace=False)]
            photos.append({"id": pid, "sha256": f"{pid:064x}", "event_id": 1, "number": pid,
                           "original_key": "originals/shared", "format": "JPEG",
                           "width": 640, "height": 480, "provenance": "school_device",
                           "status": "awaiting_review", "revision": 1,
                           "camera_serial": SERIAL if pid % 400 == 0 else "OTHER"})
            for i, person in enumerate(people):
                faces.append({"photo_id": pid, "top": 100, "left": 40 + 200 * i, "bottom": 200,
                              "right": 140 + 200 * i, "score": 0.9, "quality": "ok",
                              "person_id": person, "near_person_ids": [], "decided_by": "auto"})
            key = f"bench-{pid:05d}.jpg"
            pubs.append({"photo_id": pid, "channel": "online", "key": key, "location": key,
                         "shown_person_ids": people, "revision": 1, "cover_mode": "solid"})
        conn.execute(insert(Photo), photos)
        conn.execute(insert(Face), faces)
        conn.execute(insert(Publication), pubs)
    ctx.stores.private.put("originals/shared", original)
    for p in pubs:
        store.put(p["key"], b"x", "image/jpeg")


class _Recorder:
    """The job queue: records the targeted job, which the benchmark then runs as the worker."""

    def __init__(self) -> None:
        self.queued: list[int] = []

    def reconcile(self, photo_ids: list[int]) -> None:
        self.queued.extend(photo_ids)

    def __getattr__(self, name: str):  # scan, publish, ...: nothing to do here
        return lambda *a, **k: None


def run() -> dict:
    from consent_db.db import migrate
    from consent_db.models import Contact, Person
    from gatekeeper.config import Settings
    from gatekeeper.domain.retention import academic_year
    from gatekeeper.services.accounts.users import add_user
    from gatekeeper.services.consent.people import import_csv, record_consent, update_person
    from gatekeeper.services.context import Context
    from gatekeeper.services.photos import live, publish, reconcile
    from gatekeeper.services.photos.devices import add_device, set_device_active
    from gatekeeper.services.portal import answers as portal_answers
    from gatekeeper.services.portal.contacts import import_contacts
    from gatekeeper.services.portal.visits import PortalActor

    today = date.today()
    year = academic_year(today)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as home:
        jobs = _Recorder()
        ctx = Context(Settings(home=Path(home)), jobs=jobs, operator="bench")  # type: ignore[arg-type]
        migrate(ctx.engine)
        started = time.perf_counter()
        _populate(ctx, today, year)
        fill_s = time.perf_counter() - started
        add_user(ctx=ctx, username="dpo", roles="dpo", password=BENCH_PASSWORD)
        add_device(ctx=ctx, make="Canon", model="EOS", serial=SERIAL)
        import_contacts(ctx=ctx, actor_id=None, data=(
            b"contact_id,external_id,given_name,family_name,email,parental_responsibility,"
            b"no_contact\nC1,UPN00003,Par,Ent,p@example.org,yes,no\n"))
        with ctx.uow() as uow:
            contact = uow.session.scalar(select(Contact.id))
            n_people = uow.session.scalar(select(Person.id).order_by(Person.id.desc()))
        assert n_people == N_PEOPLE

        def door(name: str, call) -> None:
            jobs.queued.clear()
            t0 = time.perf_counter()
            call()
            t_door = time.perf_counter() - t0
            settled = live.settle(ctx=ctx, photo_ids=jobs.queued)
            total = time.perf_counter() - t0
            results[name] = {"photos": len(set(jobs.queued)), "door_s": round(t_door, 3),
                             "to_public_store_s": round(total, 3),
                             "taken_down": len(settled.taken_down),
                             "rerendered": len(settled.rerendered)}

        door("consent_csv_withdrawal", lambda: import_csv(ctx=ctx, kind="consent", data=(
            "external_id,academic_year,channel,granted,recorded_on,evidence\n"
            f"UPN00001,{year},online,no,{today.isoformat()},letter\n").encode()))
        door("dpo_form_withdrawal", lambda: record_consent(
            ctx=ctx, external_id="UPN00002", academic_year=year, channel="online",
            granted=False, recorded_on=today, evidence="letter", actor_id=None))
        actor = PortalActor("s", contact, None, "Par Ent", "", "contact:C1")

        def portal_withdrawal() -> None:
            _y, [card] = portal_answers.children(ctx=ctx, actor=actor)
            portal_answers.decide(ctx=ctx, actor=actor, handle=card.handle,
                                  answers={"online": False}, signed_name="Par Ent",
                                  client_address="192.0.2.1", user_agent="bench")
        door("portal_withdrawal", portal_withdrawal)
        door("pupil_refusal_biometric", lambda: portal_answers.record_pupil_refusal(
            ctx=ctx, external_id="UPN00004", uses=["biometric"], note="told the teacher",
            actor_id=1, actor_name="dpo"))
        door("people_csv_biometric_objection", lambda: import_csv(ctx=ctx, kind="people", data=(
            b"external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
            b"biometric_consent,safeguarding_no_photo\n"
            b"UPN00005,G5,F5,pupil,Year 5,,,no,no\n")))
        door("safeguarding_flag_on_page", lambda: update_person(
            ctx=ctx, external_id="UPN00006", actor_id=None, left_on=None,
            biometric_consent=True, safeguarding_no_photo=True))
        door("camera_deactivated", lambda: set_device_active(
            ctx=ctx, device_id=1, active=False, actor_id=None))

        def sweep_idle() -> float:
            t0 = time.perf_counter()
            reconcile.stuck_or_waiting(ctx=ctx)
            publish.pending_publications(ctx=ctx)
            live.sweep_dirty(ctx=ctx)
            return time.perf_counter() - t0
        sweep_idle()
        idle = sorted(sweep_idle() for _ in range(5))
        t0 = time.perf_counter()
        live.recheck_all(ctx=ctx)
        full_s = time.perf_counter() - t0
        ctx.close()
    result = {"live_publications": N_PHOTOS, "people": N_PEOPLE, "fill_s": round(fill_s, 1),
              "doors": results, "slowest_door_s": max(r["to_public_store_s"]
                                                     for r in results.values()),
              "idle_sweep_s": {"median": round(idle[2], 4), "max": round(idle[-1], 4)},
              "daily_full_recheck_s": round(full_s, 1)}
    write("live_follow", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
