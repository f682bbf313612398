"""Stored objects go only after the commit that makes them unreachable (the outbox): a crash at
any point of an erasure, a purge or a takedown leaves the old state or the new one, never a row
pointing at a deleted object, and running again finishes the plan with a certificate that lists
everything every attempt deleted."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from consent_db.db import UnitOfWork, migrate
from consent_db.models import Face, PendingDeletion, Person, Photo, PhotoStatus, Publication
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services import outbox, purge
from gatekeeper.services.auditing import certificate_html, certificates
from gatekeeper.services.context import Context
from gatekeeper.services.devices import add_device
from gatekeeper.services.live import settle
from gatekeeper.services.pictures import review_key
from gatekeeper.services.publish import publish_approved, take_down
from gatekeeper.services.review import approve
from tests import imagegen
from tests.integration.helpers import consent, ingest, people, person_row, users

PURGE_DAY = date(2040, 1, 1)  # EIL and ANN (left 2030) are past retention; TOM stays


@pytest.fixture
def gk(settings):
    """A migrated instance without the face engine: faces are written as the editor would."""
    settings.home.mkdir(parents=True, exist_ok=True)
    context = Context(settings)
    migrate(context.engine)
    yield context
    context.close()


def picture(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (240, 480, 3), dtype=np.uint8)
    return imagegen.jpeg(Image.fromarray(pixels), imagegen.exif_bytes())


PHOTOS = {"eil_alone": ["EIL"], "eil_tom": ["EIL", "TOM"], "eil_ann": ["EIL", "ANN"],
          "ann_tom": ["ANN", "TOM"], "eil_again": ["EIL"]}


def build(ctx: Context) -> dict[str, int]:
    """Three pupils (EIL and ANN leave in 2030), five photos identified and published online."""
    u = users(ctx)
    people(ctx, person_row("TOM"), person_row("EIL", left="2030-07-20"),
           person_row("ANN", left="2030-07-20"))
    for ext in ("TOM", "EIL", "ANN"):
        consent(ctx, ext)
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    ids: dict[str, int] = {}
    with ctx.uow() as uow:
        person = {p.external_id: p.id for p in uow.session.scalars(select(Person))}
    for seed, (name, who) in enumerate(PHOTOS.items()):
        photo_id = ingest(ctx, u["office1"], picture(seed)).photo_id
        assert photo_id is not None
        with ctx.uow() as uow:
            photo = uow.session.get(Photo, photo_id)
            assert photo is not None
            photo.status = PhotoStatus.AWAITING_REVIEW.value
            for i, ext in enumerate(who):
                photo.faces.append(Face(top=60, bottom=160, left=40 + 240 * i, right=140 + 240 * i,
                                        score=0.99, quality="good", person_id=person[ext],
                                        decided_by="editor"))
            uow.commit()
        approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE], user=u["editor1"])
        ids[name] = photo_id
    assert all(r.location for r in publish_approved(ctx=ctx))
    return ids


def consistent(ctx: Context) -> None:
    """No row points at a missing object; a deleted or taken-down copy is gone or queued; no
    original is kept that neither a photo nor a queued deletion names."""
    with ctx.uow() as uow:
        photos = uow.session.scalars(select(Photo)).all()
        live = uow.session.scalars(select(Publication).where(
            Publication.taken_down_at.is_(None))).all()
        queued = {(r.store, r.key) for r in uow.session.scalars(select(PendingDeletion))}
        for photo in photos:
            if photo.status == PhotoStatus.PURGED:
                assert photo.original_key is None
                assert all(p.taken_down_at is not None for p in photo.publications)
            else:
                assert photo.original_key and ctx.stores.private.exists(photo.original_key), \
                    f"photo {photo.id} points at a missing original"
                assert ctx.stores.private.exists(review_key(photo.sha256))
        for pub in live:
            assert ctx.stores.public[Channel(pub.channel)].exists(pub.key), \
                f"live publication {pub.id} points at a missing object"
        kept = {p.original_key for p in photos} | {review_key(p.sha256) for p in photos
                                                    if p.status != PhotoStatus.PURGED}
        for key in ctx.stores.private.keys("originals/"):
            assert key in kept or ("private", key) in queued, f"orphan original {key}"
        live_keys = {p.key for p in live}
        for key in ctx.stores.public[Channel.ONLINE].keys(""):
            assert key in live_keys or ("public:online", key) in queued, f"public {key} leaked"


def finished(ctx: Context) -> None:
    """After a complete run: nothing queued that is due, nothing public without a live row."""
    consistent(ctx)
    with ctx.uow() as uow:
        live_keys = set(uow.session.scalars(select(Publication.key).where(
            Publication.taken_down_at.is_(None))))
    assert set(ctx.stores.public[Channel.ONLINE].keys("")) == live_keys
    assert outbox.process(ctx=ctx) == 0


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


def users_of(ctx: Context) -> dict[str, object]:
    from gatekeeper.services.users import find_actor

    return {n: find_actor(ctx=ctx, username=n) for n in ("office1", "editor1", "dpo1")}


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
