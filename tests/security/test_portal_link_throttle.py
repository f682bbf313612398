"""Issue 26: the portal's throttle on links that do not work never refuses a working link.

Links are 256-bit random, so the throttle only slows an address (or a run of guesses sharing a
token's start) that keeps sending links that do not work; a parent on the same school network,
or on a phone whose address a guesser shares, must still get in with the link from the e-mail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gatekeeper.services.portal import contacts, invitations
from tests.integration.helpers import users
from tests.integration.test_portal import FAMILIES, school_people
from tests.integration.test_portal_web import csrf_of

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def school_links(ctx) -> dict[str, str]:
    users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    report = invitations.invite(ctx=ctx, audience=invitations.Audience.ALL, actor_id=None)
    return {link.recipient: link.url.rsplit("/", 1)[1] for link in report.links}


def post_link(client: TestClient, token: str):
    csrf = csrf_of(client.get(f"/portal/welcome/{token}").text)
    return client.post("/portal/welcome", data={"csrf": csrf, "token": token})


@SQLITE_ONLY
def test_a_working_link_opens_after_a_burst_of_bad_ones_from_the_same_address(ctx):
    from web.app import create_app

    tokens = school_links(ctx)
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        school_wifi = TestClient(app, follow_redirects=False, client=("203.0.113.9", 5000))
        bad = [post_link(school_wifi, f"guess{i}") for i in range(12)]
        assert [r.status_code for r in bad[:3]] == [400, 400, 400]
        assert {r.status_code for r in bad[5:]} == {429}  # failing attempts are slowed
        assert int(bad[-1].headers["retry-after"]) >= 1
        opened = post_link(school_wifi, tokens["C1"])
        assert opened.status_code == 303 and opened.headers["location"] == "/portal"
        assert school_wifi.get("/portal").status_code == 200
        again = post_link(school_wifi, "guess-after")  # still slowed: the working link
        assert again.status_code == 429                # cleared nothing for the guesser


@SQLITE_ONLY
def test_guesses_at_one_token_prefix_are_slowed_from_any_address_and_the_real_link_opens(ctx):
    from web.app import create_app

    tokens = school_links(ctx)
    real = tokens["C2"]
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        statuses = []
        for i in range(8):  # a different address each time, the same first characters
            guesser = TestClient(app, follow_redirects=False, client=(f"192.0.2.{i + 1}", 5000))
            statuses.append(post_link(guesser, real[:8] + f"wrong{i}").status_code)
        assert statuses[:3] == [400, 400, 400] and statuses[-1] == 429
        parent = TestClient(app, follow_redirects=False, client=("198.51.100.7", 5000))
        assert post_link(parent, real).status_code == 303
