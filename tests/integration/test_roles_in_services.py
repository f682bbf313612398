"""Roles are checked in the service, whichever door a person comes through (web page, API, CLI,
or a door yet to come): docs/developers/architecture.md, "Where roles are checked". These use
cases trusted their caller before; a caller that forgot the check let anyone through."""

from __future__ import annotations

import pytest

from gatekeeper.errors import PermissionDenied
from gatekeeper.services.accounts import options, users
from gatekeeper.services.consent import decisions, people
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.portal import contacts, invitations
from tests.integration.helpers import PEOPLE_HEADER, event_photo
from tests.integration.helpers import users as make_users

PEOPLE_CSV = PEOPLE_HEADER.encode()  # a header alone: a valid, empty import


def test_dpo_only_use_cases_refuse_other_roles_whatever_the_door(ctx):
    u = make_users(ctx)
    office = u["office1"].id
    refused = [
        lambda: invitations.invite(ctx=ctx, audience=invitations.Audience.ALL, actor_id=office),
        lambda: contacts.import_contacts(ctx=ctx, data=b"", actor_id=office),
        lambda: options.set_option(ctx=ctx, option=decisions.PUPIL_VOICE_FROM_YEAR, value=7,
                                   actor_id=office),
        lambda: add_device(ctx=ctx, make="Canon", model="X", serial="1", actor_id=office),
        lambda: users.set_roles(ctx=ctx, username="gov1", roles="dpo", actor_id=office),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied, match="needs the role dpo"):
            call()
    assert users.find_actor(ctx=ctx, username="gov1").roles_text == "governor"


def test_uploads_and_imports_need_office_or_dpo(ctx):
    u = make_users(ctx)
    with pytest.raises(PermissionDenied):
        ingest_bytes(ctx=ctx, data=event_photo(), name="a.jpg", event_name="Trip",
                     actor_id=u["editor1"].id)
    with pytest.raises(PermissionDenied):
        people.import_csv(ctx=ctx, kind="people", data=PEOPLE_CSV, actor_id=u["gov1"].id)
    assert people.import_csv(ctx=ctx, kind="people", data=PEOPLE_CSV,
                             actor_id=u["office1"].id) is not None


def test_a_disabled_user_is_refused(ctx):
    u = make_users(ctx)
    users.set_active(ctx=ctx, username="dpo1", active=False, actor_id=None)
    with pytest.raises(PermissionDenied, match="not an active user"):
        add_device(ctx=ctx, make="Canon", model="X", serial="1", actor_id=u["dpo1"].id)


def test_every_role_changes_its_own_password_but_only_the_dpo_resets_another(ctx):
    """A role check on resetting someone's password must not stop a governor, an editor or the
    office changing their own (the role check in `set_password` once did)."""
    from tests.integration.helpers import PASSWORD

    u = make_users(ctx)
    for name in ("gov1", "editor1", "office1"):
        users.change_own_password(ctx=ctx, user=u[name], current=PASSWORD,
                                  new="another-long-pass-9")
        assert users.authenticate(ctx=ctx, username=name, password="another-long-pass-9")
    with pytest.raises(PermissionDenied, match="needs the role dpo"):
        users.set_password(ctx=ctx, username="editor1", password="third-long-pass-7",
                           actor_id=u["gov1"].id)


def test_the_system_and_the_operator_need_no_role(ctx):
    make_users(ctx)
    add_device(ctx=ctx, make="Canon", model="X", serial="1", actor_id=None)
    users.set_roles(ctx=ctx, username="gov1", roles="governor,editor", actor_id=None)


def test_the_cli_leaves_the_check_to_the_service(ctx, capsys, monkeypatch):
    from gatekeeper.entrypoints.cli import main

    make_users(ctx)
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    home = ["--home", str(ctx.settings.home)]
    assert main(["parents", "voice", "9", "--by", "office1", *home]) == 1
    assert "needs the role dpo" in capsys.readouterr().err
    assert main(["parents", "voice", "9", "--by", "dpo1", *home]) == 0
