"""A family whose link was used or has expired gets a new one by typing their address: it goes
to the address on file only, at most once per ten minutes, and the page answers the same
whether or not the address is known."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent_db.models import PortalInvitation
from gatekeeper.errors import InvalidInput
from gatekeeper.services.portal import invitations
from gatekeeper.services.portal import visits as portal
from gatekeeper.services.portal.invitations import Audience
from gatekeeper.services.portal.new_link import email_new_link
from tests.integration.test_invitation_links import outbox
from tests.integration.test_portal import links_by_recipient, setup_school

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _recipients(ctx, before: frozenset = frozenset()) -> list[str]:
    return [re.search(r"^To: (.*)$", p.read_text(), re.M).group(1) for p in outbox(ctx)
            if p not in before]


def test_a_new_link_goes_to_the_address_on_file_once_per_ten_minutes(ctx):
    setup_school(ctx)
    assert email_new_link(ctx=ctx, address="  ANN@example.org ") == 1  # any case, spaces
    assert _recipients(ctx) == ["ann@example.org"]
    assert email_new_link(ctx=ctx, address="ann@example.org") == 0  # within ten minutes
    assert email_new_link(ctx=ctx, address="nobody@example.org") == 0
    assert email_new_link(ctx=ctx, address="dan@example.org") == 0  # no contact allowed
    assert _recipients(ctx) == ["ann@example.org"]
    with pytest.raises(InvalidInput, match="e-mail address") as refused:
        email_new_link(ctx=ctx, address="ann at example")
    assert refused.value.field == "email"


def test_a_pupil_who_decides_for_themselves_gets_their_own_new_link(ctx):
    """P3 (Year 9, with an address on file) decides for themselves: typing that address sends
    P3 a link of their own, and their parents' links are left as they are."""
    setup_school(ctx)
    assert email_new_link(ctx=ctx, address="P3@pupils.example.org") == 1
    assert _recipients(ctx) == ["p3@pupils.example.org"]
    with ctx.uow() as uow:
        [link] = uow.session.scalars(select(PortalInvitation)).all()
        assert link.pupil_id is not None and link.contact_id is None
    assert email_new_link(ctx=ctx, address="p3@pupils.example.org") == 0  # within ten minutes
    with pytest.raises(InvalidInput, match="does not decide"):  # P4 (Year 3) has no voice
        invitations.invite(ctx=ctx, audience=Audience.PUPIL, pupil_ref="P4", actor_id=None)


def test_the_used_link_page_offers_a_new_link_with_one_answer_for_all(ctx):
    from web.app import create_app

    setup_school(ctx)
    token = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL,
                                                  actor_id=None))["C1"]
    portal.open_session(ctx=ctx, token=token)
    with ctx.uow() as uow:  # the invitations went out an hour ago
        for row in uow.session.scalars(select(PortalInvitation)):
            row.created_at -= timedelta(hours=1)
        uow.commit()
    sent_before = frozenset(outbox(ctx))
    app = create_app(ctx.settings, ctx)
    with TestClient(app, follow_redirects=False) as parent:
        parent.headers["accept"] = "text/html"
        welcome = parent.get(f"/portal/welcome/{token}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', welcome).group(1)
        used = parent.post("/portal/welcome", data={"csrf": csrf, "token": token})
        assert used.status_code == 400 and "already been used" in used.text
        assert 'action="/portal/new-link"' in used.text and "E-mail me a new link" in used.text

        answers = []
        for address in ("ann@example.org", "nobody@example.org"):
            resp = parent.post("/portal/new-link", data={"csrf": csrf, "email": address})
            assert resp.status_code == 200
            answers.append(resp.text.replace(address, "ADDRESS"))
        assert answers[0] == answers[1]  # no hint which address is known
        assert "a new link is on its way" in answers[0]
        assert _recipients(ctx, sent_before) == ["ann@example.org"]

        typo = parent.post("/portal/new-link", data={"csrf": csrf, "email": "ann.example.org"})
        assert typo.status_code == 400 and 'value="ann.example.org"' in typo.text
        assert 'aria-describedby="new-link-error"' in typo.text

        # a fourth request for one address within the hour waits, as it would if unknown
        for _ in range(2):
            parent.post("/portal/new-link", data={"csrf": csrf, "email": "x@example.org"})
        for address in ("ann@example.org", "x@example.org"):
            resp = parent.post("/portal/new-link", data={"csrf": csrf, "email": address})
        assert resp.status_code == 429 and "wait 1 minute" in resp.text
        assert resp.headers["Retry-After"] == "60"
