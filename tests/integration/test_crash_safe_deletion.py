"""Stored objects go only after the commit that makes them unreachable (the outbox): a crash at
any point of an erasure, a purge or a takedown leaves the old state or the new one, never a row
pointing at a deleted object, and running again finishes the plan with a certificate that lists
everything every attempt deleted."""

from __future__ import annotations

import re

import pytest

from consent_db.db import UnitOfWork, migrate
from consent_db.models import Photo, PhotoStatus
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services import outbox
from gatekeeper.services.auditing import certificate_html, certificates
from gatekeeper.services.context import Context
from gatekeeper.services.dpo import purge
from gatekeeper.services.photos.live import settle
from gatekeeper.services.photos.publish import take_down
from tests.integration.deletions import PURGE_DAY, build, consistent, finished, users_of


@pytest.fixture
def gk(settings):
    """A migrated instance without the face engine: faces are written as the editor would."""
    settings.home.mkdir(parents=True, exist_ok=True)
    context = Context(settings)
    migrate(context.engine)
    yield context
    context.close()


def test_a_commit_that_fails_deletes_no_object(gk, monkeypatch):
    photos = build(gk)
    dpo = users_of(gk)["dpo1"]
    real_commit = UnitOfWork.commit

    def failing_commit(self: UnitOfWork) -> None:
        if any(isinstance(o, Photo) and o.status == PhotoStatus.PURGED
               for o in self.session.dirty):
            raise RuntimeError("the database went away")
        real_commit(self)

    monkeypatch.setattr(UnitOfWork, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        purge.erase_person(ctx=gk, external_id="EIL", user=dpo)
    consistent(gk)
    with gk.uow() as uow:
        alone = uow.session.get(Photo, photos["eil_alone"])
        assert alone.status != PhotoStatus.PURGED and alone.original_key
        assert gk.stores.private.exists(alone.original_key)  # old code: deleted, row kept
        assert all(gk.stores.public[Channel.ONLINE].exists(p.key) for p in alone.publications)
    monkeypatch.setattr(UnitOfWork, "commit", real_commit)
    purge.erase_person(ctx=gk, external_id="EIL", user=dpo)
    finished(gk)


def test_covering_in_place_writes_a_new_object_and_the_old_one_goes_after_the_commit(gk):
    photos = build(gk)
    with gk.uow() as uow:
        before = uow.session.get(Photo, photos["eil_tom"]).original_key
    purge.erase_person(ctx=gk, external_id="EIL", user=users_of(gk)["dpo1"])
    with gk.uow() as uow:
        after = uow.session.get(Photo, photos["eil_tom"]).original_key
    assert after != before and after.startswith(before + ".")
    assert gk.stores.private.exists(after) and not gk.stores.private.exists(before)
    assert outbox.pending(ctx=gk) == 0  # the guard of the new key was claimed by the commit
    finished(gk)


def test_a_takedown_rolled_back_leaves_the_copy_and_one_committed_removes_it_at_once(gk):
    photos = build(gk)
    store = gk.stores.public[Channel.ONLINE]
    with gk.uow() as uow:  # no commit: rolled back
        photo = uow.session.get(Photo, photos["ann_tom"])
        [pub] = photo.publications
        take_down(ctx=gk, session=uow.session, publication=pub, reason="test")
    assert store.exists(pub.key)  # old code: deleted although the row says live
    with gk.uow() as uow:
        uow.session.get(Photo, photos["ann_tom"]).status = PhotoStatus.REJECTED.value
        uow.commit()
    assert settle(ctx=gk, photo_ids=[photos["ann_tom"]]).taken_down == [pub.id]
    assert not store.exists(pub.key)  # within the call that committed, not at the sweep
    finished(gk)


def test_a_store_that_fails_is_retried_by_the_sweep(gk, monkeypatch):
    build(gk)
    private = gk.stores.private

    def refuse(key: str) -> None:
        raise OSError("store unavailable")

    monkeypatch.setattr(private, "delete", refuse)
    purge.erase_person(ctx=gk, external_id="EIL", user=users_of(gk)["dpo1"])
    consistent(gk)
    assert outbox.pending(ctx=gk) > 0
    monkeypatch.undo()
    from workers.tasks import make_huey

    huey = make_huey(gk.settings, immediate=True, ctx=gk)
    huey.gatekeeper_tasks.sweep()
    assert outbox.pending(ctx=gk) == 0
    finished(gk)


def test_an_interrupted_erasure_is_finished_by_the_next_and_certified_whole(gk, monkeypatch):
    photos = build(gk)
    dpo = users_of(gk)["dpo1"]
    real = purge._cover_people

    def die_half_way(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # after the deletions, before any cover

    monkeypatch.setattr(purge, "_cover_people", die_half_way)
    with pytest.raises(KeyboardInterrupt):
        purge.erase_person(ctx=gk, external_id="EIL", user=dpo)
    monkeypatch.setattr(purge, "_cover_people", real)
    consistent(gk)
    assert certificates(ctx=gk) == []
    plan = purge.erase_person(ctx=gk, external_id="EIL", user=dpo)
    [cert] = certificates(ctx=gk)
    assert cert["photos_deleted"] == sorted([photos["eil_alone"], photos["eil_again"]])
    assert cert["photos_covered"] == sorted([photos["eil_tom"], photos["eil_ann"]])
    assert plan.photos_to_delete == cert["photos_deleted"]
    assert cert["deleted"]["originals"] == 2 and cert["deleted"]["public_objects"] == 4
    assert cert["deleted"]["people"] == 1 and cert["attempts"] == 2
    text = " ".join(re.sub(r"<[^>]+>", " ", certificate_html(
        ctx=gk, certificate_id=cert["id"])).split())
    assert "(2 attempts in all)" in text and "by dpo1" in text
    assert f"Photos deleted: {photos['eil_alone']}, {photos['eil_again']}." in text
    finished(gk)


def test_the_certificate_of_a_manual_purge_names_who_ran_it(gk):
    build(gk)
    with gk.acting_as("cli:root"):
        purge.apply_purge(ctx=gk, today=PURGE_DAY)
    [cert] = certificates(ctx=gk)
    assert cert["by"] == "cli:root"
    text = " ".join(re.sub(r"<[^>]+>", " ", certificate_html(
        ctx=gk, certificate_id=cert["id"])).split())
    assert "scheduled" not in text and "by root on the command line (cli:root)" in text
    finished(gk)
    with gk.acting_as("system:daily"):
        purge.apply_purge(ctx=gk, today=PURGE_DAY)
    daily = certificates(ctx=gk)[-1]
    assert "by the scheduled retention job (system:daily)" in " ".join(
        re.sub(r"<[^>]+>", " ", certificate_html(ctx=gk, certificate_id=daily["id"])).split())
