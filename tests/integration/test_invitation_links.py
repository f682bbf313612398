"""Invitation links that parents can open: none are sent while GATEKEEPER_PUBLIC_URL is unset,
the Parents page says where links point (and warns about a local address), and one family at
a time can be sent a new link, from the CLI and the page."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent_db.models import PortalInvitation
from gatekeeper.errors import GatekeeperError, InvalidInput
from gatekeeper.services.portal import invitations
from gatekeeper.services.portal import visits as portal
from gatekeeper.services.portal.invitations import Audience
from tests.integration.helpers import context_like
from tests.integration.test_portal import links_by_recipient, setup_school
from tests.integration.test_web_roles import signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def invitations_made(ctx) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(PortalInvitation))


def outbox(ctx) -> list:
    folder = ctx.settings.home / "outbox"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_no_invitation_leaves_while_the_public_url_is_unset(ctx):
    setup_school(ctx)
    unset = context_like(ctx, public_url=None)
    with pytest.raises(GatekeeperError, match="GATEKEEPER_PUBLIC_URL"):
        invitations.invite(ctx=unset, audience=Audience.ALL, actor_id=None)
    assert invitations_made(ctx) == 0 and outbox(ctx) == []


def page_of(ctx, **settings) -> str:
    from web.app import create_app

    other = context_like(ctx, **settings)
    app = create_app(other.settings, other)
    with TestClient(app):
        client, _ = signed_in(app, "dpo1")
        return client.get("/parents").text


def test_the_parents_page_shows_where_links_point(ctx):
    setup_school(ctx)
    local = page_of(ctx, public_url="http://127.0.0.1:8000")
    assert "http://127.0.0.1:8000/portal/welcome/" in local
    assert re.search(r'id="link-base-local"[^>]*>[^<]*only on this computer', local)
    public = page_of(ctx, public_url="https://consent.hillside.example")
    assert "https://consent.hillside.example/portal/welcome/" in public
    assert 'id="link-base-local"' not in public
    unset = page_of(ctx, public_url=None)
    assert 'id="link-base-unset"' in unset and "GATEKEEPER_PUBLIC_URL" in unset


def test_one_family_gets_a_new_link_from_the_cli(ctx, capsys, monkeypatch):
    from gatekeeper.entrypoints.cli import main

    setup_school(ctx)
    old = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    sent_before = set(outbox(ctx))
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    monkeypatch.setenv("GATEKEEPER_PUBLIC_URL", "https://consent.hillside.example")
    home = ["--home", str(ctx.settings.home)]
    assert main(["parents", "invite", "--contact", "C1", "--by", "dpo1", *home]) == 0
    assert "1 parent/carer and 0 pupil invitation(s)" in capsys.readouterr().out
    [newest] = set(outbox(ctx)) - sent_before
    mail = email.message_from_bytes(newest.read_bytes(), policy=email.policy.default)
    assert mail["To"] == "ann@example.org"
    assert "https://consent.hillside.example/portal/welcome/" in mail.get_content()
    with pytest.raises(InvalidInput):  # the link sent before no longer works
        portal.open_session(ctx=ctx, token=old["C1"])
    portal.open_session(ctx=ctx, token=old["C2"])  # the other parent's still does
    assert main(["parents", "invite", "--contact", "C5", "--by", "dpo1", *home]) == 1
    assert "C5 may not decide" in capsys.readouterr().err
    assert main(["parents", "invite", "--contact", "C99", "--by", "dpo1", *home]) == 1
    assert "no contact C99" in capsys.readouterr().err


def test_one_family_gets_a_new_link_from_the_parents_page(ctx):
    from web.app import create_app

    setup_school(ctx)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        dpo, token = signed_in(app, "dpo1")
        found = dpo.get("/parents", params={"family": "family1"}).text
        buttons = re.findall(r'<button[^>]*id="new-link-(C\d)"', found)
        assert sorted(buttons) == ["C1", "C2"]  # Ann and Bob Family1; not Cat Family3
        sent = dpo.post("/parents/invite-contact", data={"csrf": token, "contact": "C2"})
        assert sent.status_code == 200
        assert "1 parent/carer and 0 pupil invitation(s)" in sent.text
        assert re.search(r'href="/parents/links/[0-9a-f]{32}\.csv"', sent.text)
        barred = dpo.post("/parents/invite-contact", data={"csrf": token, "contact": "C5"})
        assert barred.status_code == 400 and "C5 may not decide" in barred.text
    assert invitations_made(ctx) == 1
