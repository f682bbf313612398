"""Each change of fact, made through its doors with a worker process running, reaches the public
store within a minute: a biometric objection re-renders the copy covering the child, a paper
withdrawal and a safeguarding flag take copies down, a lost camera takes its photos down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from consent_db.models import Person, Publication
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.consent.people import import_csv, record_consent, update_person
from gatekeeper.services.context import Context
from gatekeeper.services.photos.devices import set_device_active
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from tests.integration.helpers import PEOPLE_HEADER, consent, event_photo, ingest, person_row
from workers.queue import HueyJobQueue
from workers.tasks import make_huey

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"],
                                                        indirect=True)]
WITHIN = 60.0


def _live_keys(ctx: Context, photo_id: int) -> set[str]:
    with ctx.uow() as uow:
        return set(uow.session.scalars(select(Publication.key).where(
            Publication.photo_id == photo_id, Publication.taken_down_at.is_(None))))


def _public(ctx: Context) -> set[str]:
    return set().union(*(set(store.keys()) for store in ctx.stores.public.values()))


def _wait(what: str, done: Callable[[], bool]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < WITHIN:
        if done():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what}: the public store did not follow within {WITHIN:.0f} s")


def test_every_door_reaches_the_public_store_within_a_minute(ctx, school):
    def published(faces: tuple[str, ...], channel: Channel) -> tuple[int, set[str]]:
        photo_id = ingest(ctx, school["office1"], event_photo(faces)).photo_id
        scan_photo(ctx=ctx, photo_id=photo_id)
        approve(ctx=ctx, photo_id=photo_id, channels=[channel], user=school["editor1"])
        assert publish_one(ctx=ctx, photo_id=photo_id, channel=channel, on=ctx.today()).location
        return photo_id, _live_keys(ctx, photo_id)

    consent(ctx, "EIL", channel="display")
    both, both_keys = published(("tom", "eileen"), Channel.ONLINE)
    eileen, eileen_keys = published(("eileen",), Channel.DISPLAY)
    tom_only, _ = published(("tom",), Channel.ONLINE)
    with ctx.uow() as uow:
        tom = uow.session.scalar(select(Person.id).where(Person.external_id == "TOM"))

    env = {**os.environ, "GATEKEEPER_HOME": str(ctx.settings.home),
           "GATEKEEPER_DATABASE_URL": ctx.settings.resolved_database_url}
    worker = subprocess.Popen([sys.executable, "-m", "gatekeeper", "worker", "--processes", "1"],
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    web = Context(ctx.settings, stores=ctx.stores, jobs=HueyJobQueue(make_huey(ctx.settings)))
    try:
        # a parent's objection to face recognition, in people.csv: re-rendered covering TOM
        import_csv(ctx=web, kind="people", actor_id=school["dpo1"].id, data=(
            PEOPLE_HEADER + person_row("TOM", bio="no") + person_row("EIL")).encode())

        def covered() -> bool:
            with ctx.uow() as uow:
                pubs = list(uow.session.scalars(select(Publication).where(
                    Publication.photo_id == both, Publication.taken_down_at.is_(None))))
            return (len(pubs) == 1 and tom not in pubs[0].shown_person_ids
                    and not (both_keys & _public(ctx)))
        _wait("biometric objection", covered)

        # a paper withdrawal recorded on the DPO's form takes the copy that shows EIL down
        record_consent(ctx=web, external_id="EIL",
                       academic_year=academic_year(ctx.today(), *ctx.year_start),
                       channel="online", granted=False, recorded_on=ctx.today(),
                       evidence="letter", actor_id=school["dpo1"].id)
        _wait("paper withdrawal", lambda: _live_keys(ctx, both) == set())

        # a safeguarding flag set on the person's page
        update_person(ctx=web, external_id="EIL", actor_id=school["dpo1"].id, left_on=None,
                      biometric_consent=True, safeguarding_no_photo=True)
        _wait("safeguarding flag", lambda: not (eileen_keys & _public(ctx)))

        # a lost camera: its live photos come down
        assert _live_keys(ctx, tom_only)
        set_device_active(ctx=web, device_id=1, active=False, actor_id=school["dpo1"].id)
        _wait("camera deactivated", lambda: _public(ctx) == set())
    finally:
        web.close()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
