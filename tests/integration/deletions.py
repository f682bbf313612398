"""An instance for the deletion tests, built without the face engine (faces written as the
editor would), and the checks that no row points at a missing object and nothing leaked."""

from __future__ import annotations

from datetime import date

import numpy as np
from PIL import Image
from sqlalchemy import select

from consent_db.models import Face, PendingDeletion, Person, Photo, PhotoStatus, Publication
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services import outbox
from gatekeeper.services.accounts.users import Actor, find_actor
from gatekeeper.services.context import Context
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.pictures import review_key
from gatekeeper.services.photos.publish import publish_approved
from gatekeeper.services.photos.review import approve
from tests import imagegen
from tests.integration.helpers import consent, ingest, people, person_row, users

PURGE_DAY = date(2040, 1, 1)  # EIL and ANN (left 2030) are past retention; TOM stays


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


def users_of(ctx: Context) -> dict[str, Actor]:
    return {n: find_actor(ctx=ctx, username=n) for n in ("office1", "editor1", "dpo1")}
