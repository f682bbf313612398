"""A held photo (not from a school camera) can be rejected or deleted by the DPO from its page,
not only released; deleting removes its original from the private store after the commit."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent_db.models import AuditEvent, Photo
from gatekeeper.adapters.storage import Stores
from gatekeeper.services.photos.pictures import review_key
from tests import imagegen
from tests.integration.helpers import context_like, ingest, users
from tests.integration.test_web_roles import signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class WatchedStore:
    """The private store, noting what the database said about the photo at each deletion."""

    def __init__(self, inner, ctx) -> None:
        self.inner, self.ctx, self.seen = inner, ctx, []

    def delete(self, key: str) -> None:
        with self.ctx.uow() as uow:  # a fresh session: sees only what was committed
            self.seen.append((key, uow.session.scalars(select(Photo.status)).all()))
        self.inner.delete(key)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def held_photos(ctx, office, n: int) -> list[int]:
    base = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    ids = []
    for i in range(n):
        img = base.copy()
        img.putpixel((i, 0), (i * 40, 1, 2))
        result = ingest(ctx, office, imagegen.jpeg(img, imagegen.exif_bytes()), f"{i}.jpg")
        assert result.outcome.value == "held"  # no camera registered
        ids.append(result.photo_id)
    return ids


def photo(ctx, photo_id: int) -> Photo:
    with ctx.uow() as uow:
        return uow.session.get(Photo, photo_id)


def test_the_dpo_rejects_or_deletes_a_held_photo_from_its_page(ctx):
    from web.app import create_app

    u = users(ctx)
    first, second = held_photos(ctx, u["office1"], 2)
    sha, key = photo(ctx, second).sha256, photo(ctx, second).original_key
    watched = WatchedStore(ctx.stores.private, ctx)
    dpo_ctx = context_like(ctx, stores=Stores(watched, ctx.stores.public))
    app = create_app(dpo_ctx.settings, dpo_ctx)
    with TestClient(app):
        dpo, token = signed_in(app, "dpo1")
        page = dpo.get(f"/photos/{first}").text
        assert 'id="release"' in page and 'id="reject-held"' in page and 'id="delete-held"' in page
        done = dpo.post(f"/photos/{first}/reject", data={"csrf": token, "reason": "a phone"})
        assert done.status_code == 303
        assert photo(ctx, first).status == "rejected"

        unconfirmed = dpo.post(f"/photos/{second}/delete",
                               data={"csrf": token, "reason": "personal phone"})
        assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.text
        assert ctx.stores.private.exists(key)
        deleted = dpo.post(f"/photos/{second}/delete", data={
            "csrf": token, "reason": "personal phone", "confirm": "yes"})
        assert deleted.status_code == 303
        assert deleted.headers["location"] == f"/review?status=held&deleted={second}"
        assert f"Photo {second} deleted" in dpo.get(deleted.headers["location"]).text

        editor, etoken = signed_in(app, "editor1")
        assert editor.post(f"/photos/{first}/delete", data={
            "csrf": etoken, "reason": "x", "confirm": "yes"}).status_code == 403

    gone = photo(ctx, second)
    assert gone.status == "purged" and gone.original_key is None
    assert gone.original_filename is None and gone.status_reason.startswith("deleted by the DPO")
    assert not ctx.stores.private.exists(key) and not ctx.stores.private.exists(review_key(sha))
    # both files went only after the commit that made the photo purged
    assert sorted(k for k, _ in watched.seen) == sorted([key, review_key(sha)])
    assert all(statuses.count("purged") == 1 for _, statuses in watched.seen)
    with ctx.uow() as uow:
        event = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "photo.deleted"))
        assert event.entity_id == second and event.actor_id == u["dpo1"].id
        assert "personal phone" not in str(event.details)


def test_only_a_held_photo_is_deleted_this_way(ctx):
    from gatekeeper.errors import InvalidState
    from gatekeeper.services.photos.review import delete_held, reject

    u = users(ctx)
    [held] = held_photos(ctx, u["office1"], 1)
    reject(ctx=ctx, photo_id=held, reason="blurred", user=u["dpo1"])
    with pytest.raises(InvalidState, match=re.escape("not held")):
        delete_held(ctx=ctx, photo_id=held, reason="x", user=u["dpo1"])


def test_the_cli_deletes_a_held_photo(ctx, capsys, monkeypatch):
    from gatekeeper.entrypoints.cli import main

    u = users(ctx)
    [held] = held_photos(ctx, u["office1"], 1)
    key = photo(ctx, held).original_key
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    home = ["--home", str(ctx.settings.home)]
    assert main(["photos", "delete", str(held), "--reason", "phone", "--by", "editor1",
                 *home]) != 0
    capsys.readouterr()
    assert main(["photos", "delete", str(held), "--reason", "phone", "--by", "dpo1", *home]) == 0
    assert f"photo {held} deleted" in capsys.readouterr().out
    assert photo(ctx, held).status == "purged" and not ctx.stores.private.exists(key)
