"""User names are one name whatever their case: `office1` and `Office1` are the same person
to the school, so they cannot be two accounts, and signing in does not depend on the case."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from consent_db.models import User
from gatekeeper.errors import InvalidInput
from gatekeeper.services.accounts.users import add_user, authenticate, find_actor, set_active
from tests.integration.helpers import PASSWORD


def test_a_name_differing_only_in_case_is_refused(ctx):
    add_user(ctx=ctx, username="office1", roles="office", password=PASSWORD)
    with pytest.raises(InvalidInput, match="already exists"):
        add_user(ctx=ctx, username="Office1", roles="editor", password=PASSWORD)


def test_the_database_refuses_it_too(ctx):
    """Two admins adding the same name at once: the check above cannot see the other's row."""
    add_user(ctx=ctx, username="office1", roles="office", password=PASSWORD)
    with ctx.uow() as uow, pytest.raises(IntegrityError):
        uow.session.add(User(username="OFFICE1", roles="office", password_hash="x"))
        uow.commit()


def test_sign_in_and_commands_ignore_case(ctx):
    add_user(ctx=ctx, username="Office1", roles="office", password=PASSWORD)
    actor, _stamp = authenticate(ctx=ctx, username="office1", password=PASSWORD)
    assert actor.username == "Office1"
    assert authenticate(ctx=ctx, username="OFFICE1", password=PASSWORD)[0].id == actor.id
    assert find_actor(ctx=ctx, username="office1").id == actor.id
    assert set_active(ctx=ctx, username="OFFICE1", active=False, actor_id=None).active is False


def test_the_migration_stops_on_names_that_already_clash(database_url):
    """An older instance with both `office1` and `Office1`: the operator must choose, so the
    upgrade stops and names them, changing nothing."""
    from alembic import command
    from sqlalchemy import text

    from consent_db.db import _alembic_config, current_revision, make_engine, migrate

    engine = make_engine(database_url)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    with engine.begin() as conn:
        for uid, name in ((1, "office1"), (2, "Office1")):
            conn.execute(text("INSERT INTO users (id, username, password_hash, roles, active, "
                              "created_at) VALUES (:id, :n, 'x', 'office', true, "
                              "'2026-01-01 00:00:00')"), {"id": uid, "n": name})
    with pytest.raises(RuntimeError, match="differ only in case: office1"):
        migrate(engine)
    assert current_revision(engine) == "0007"
    engine.dispose()


def test_the_sign_in_page_takes_the_name_in_any_case(ctx):
    import re

    from fastapi.testclient import TestClient

    from web.app import create_app

    add_user(ctx=ctx, username="dpo1", roles="dpo", password=PASSWORD)
    app = create_app(ctx.settings, ctx)
    with TestClient(app, follow_redirects=False) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
        resp = client.post("/signin", data={"username": "DPO1", "password": PASSWORD,
                                            "csrf": token})
        assert resp.status_code == 303
        assert "dpo1" in client.get("/account").text
