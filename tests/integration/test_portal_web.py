"""The portal through the real app, with invitations delivered by SMTP to a local mail server
the test starts (aiosmtpd): a DPO imports contacts and invites; a parent opens the link once,
sees only their own children and no photo, answers (CSRF checked), and is sent a confirmation."""

from __future__ import annotations

import email
import email.policy
import re
import socket

import pytest
from fastapi.testclient import TestClient

from tests.integration.helpers import context_like
from tests.integration.test_portal import FAMILIES, school_people
from tests.integration.test_web_roles import signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], str]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((list(envelope.rcpt_tos), parsed.get_content()))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", handler
    controller.stop()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_dpo_invites_by_smtp_and_a_parent_answers_on_the_portal(ctx, smtp_server):
    from tests.integration.helpers import users
    from web.app import create_app

    url, mailbox = smtp_server
    mail_ctx = context_like(ctx, smtp_url=url, public_url="https://school.example")
    users(mail_ctx)
    school_people(mail_ctx)
    app = create_app(mail_ctx.settings, mail_ctx)
    with TestClient(app):
        dpo, token = signed_in(app, "dpo1")
        page = dpo.post("/parents/import", data={"csrf": token},
                        files={"file": ("contacts.csv", FAMILIES.encode(), "text/csv")})
        assert page.status_code == 200 and "5 created" in page.text
        bad = dpo.post("/parents/import", data={"csrf": token}, files={
            "file": ("c.csv", b"contact_id,external_id\nX,Y\n", "text/csv")})
        assert bad.status_code == 400 and "missing column(s)" in bad.text
        sent = dpo.post("/parents/invite", data={"csrf": token, "audience": "all"})
        assert sent.status_code == 200 and "sent by e-mail" in sent.text
        assert sorted(r[0] for r, _ in mailbox.messages) == [
            "ann@example.org", "bob@example.org", "cat@example.org", "p3@pupils.example.org"]
        links_url = re.search(r'href="(/parents/links/[0-9a-f]{32}\.csv)"', sent.text).group(1)
        csv_text = dpo.get(links_url).text
        assert csv_text.startswith("contact,email,link") and csv_text.count("\n") == 5
        assert dpo.get(links_url).status_code == 404  # handed over once

        ann_mail = next(body for (to, body) in mailbox.messages if to == ["ann@example.org"])
        link = re.search(r"https://school\.example(/portal/welcome/\S+)", ann_mail).group(1)
        parent = TestClient(app, follow_redirects=False)
        welcome = parent.get(link)
        assert welcome.status_code == 200 and "Open my consent page" in welcome.text
        token_field = re.search(r'name="token" value="([^"]+)"', welcome.text).group(1)
        opened = parent.post("/portal/welcome", data={"csrf": csrf_of(welcome.text),
                                                      "token": token_field})
        assert opened.status_code == 303 and opened.headers["location"] == "/portal"
        home = parent.get("/portal")
        assert "GivenP1" in home.text and "GivenP2" in home.text
        assert "GivenP3" not in home.text and "<img" not in home.text
        assert "Review queue" not in home.text  # no staff page or menu
        handles = re.findall(r'action="/portal/children/(\d+)"', home.text)
        no_csrf = parent.post(f"/portal/children/{handles[0]}", data={"online": "refuse"})
        assert no_csrf.status_code == 403
        done = parent.post(f"/portal/children/{handles[0]}", data={
            "csrf": csrf_of(home.text), "online": "give", "display": "refuse",
            "signed_name": "Ann Family1"}, headers={"user-agent": "Phone browser"})
        assert done.status_code == 303 and "saved=1" in done.headers["location"]
        confirmation = mailbox.messages[-1]
        assert confirmation[0] == ["ann@example.org"] and "consent given" in confirmation[1]
        unsigned = parent.post(f"/portal/children/{handles[0]}", data={
            "csrf": csrf_of(home.text), "online": "refuse", "signed_name": " "})
        assert unsigned.status_code == 400 and "type your full name" in unsigned.text
        history = parent.get("/portal/history")
        assert "Website and social media" in history.text and "Ann Family1" in history.text

        # another family's child, by guessing handles: nothing
        cat_handle = max(int(h) for h in handles) + 1
        other = parent.post(f"/portal/children/{cat_handle}", data={
            "csrf": csrf_of(home.text), "online": "refuse", "signed_name": "Ann Family1"})
        assert other.status_code == 404 and "GivenP3" not in other.text

        again = TestClient(app, follow_redirects=False)
        reuse = again.post("/portal/welcome", data={
            "csrf": csrf_of(again.get(link).text), "token": token_field})
        assert reuse.status_code == 400 and "already been used" in reuse.text
        assert "Sign in" not in reuse.text

        parent.post("/portal/signout", data={"csrf": csrf_of(home.text)})
        ended = parent.get("/portal")
        assert ended.status_code == 401 and "ask the school office for a new one" in ended.text

        consent_page = dpo.get("/parents/consent")
        assert consent_page.status_code == 200 and "given by Ann Family1" in consent_page.text


def test_portal_answers_are_saved_even_when_the_confirmation_cannot_be_sent(ctx):
    """The outbox cannot be written: the answer stands and the page says the e-mail failed;
    a signature with hidden characters is refused; an unused links list goes after the hour."""
    import time

    from gatekeeper.services.portal import contacts, invitations
    from tests.integration.helpers import users
    from tests.integration.test_portal import FAMILIES, school_people
    from web.app import create_app

    users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    report = invitations.invite(ctx=ctx, audience=invitations.Audience.ALL, actor_id=None)
    token = next(link.url for link in report.links if link.recipient == "C1").rsplit("/", 1)[1]
    outbox = ctx.settings.home / "outbox"
    for eml in outbox.iterdir():
        eml.unlink()
    outbox.rmdir()
    outbox.write_text("not a folder")  # delivery now fails with an OSError
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        parent = TestClient(app, follow_redirects=False)
        welcome = parent.get(f"/portal/welcome/{token}")
        parent.post("/portal/welcome", data={"csrf": csrf_of(welcome.text), "token": token})
        home = parent.get("/portal")
        handle = re.findall(r'action="/portal/children/(\d+)"', home.text)[0]
        hidden = parent.post(f"/portal/children/{handle}", data={
            "csrf": csrf_of(home.text), "online": "give", "signed_name": "\u202eAnn Family1"})
        assert hidden.status_code == 400 and "hidden characters" in hidden.text
        saved = parent.post(f"/portal/children/{handle}", data={
            "csrf": csrf_of(home.text), "online": "give", "signed_name": "Ann Family1"})
        assert saved.status_code == 303 and "mail=failed" in saved.headers["location"]
        page = parent.get(saved.headers["location"])
        assert "could not send a confirmation" in page.text and 'id="saved"' in page.text
    kept = invitations.keep_links_csv(ctx=ctx, report=report)
    assert invitations.forget_old_links_csv(ctx=ctx) == 0
    assert invitations.forget_old_links_csv(ctx=ctx, now=time.time() + 3700) == 1
    with pytest.raises(Exception, match="unknown or was already downloaded"):
        invitations.take_links_csv(ctx=ctx, token=kept)


def test_links_that_do_not_work_slow_down_their_address_only(ctx):
    from gatekeeper.services.portal import contacts, invitations
    from tests.integration.helpers import users
    from tests.integration.test_portal import FAMILIES, school_people
    from web.app import create_app

    users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    report = invitations.invite(ctx=ctx, audience=invitations.Audience.ALL, actor_id=None)
    token = next(link.url for link in report.links if link.recipient == "C1").rsplit("/", 1)[1]
    app = create_app(ctx.settings, ctx)
    with TestClient(app):
        attacker = TestClient(app, follow_redirects=False, client=("203.0.113.9", 5000))
        form = {"csrf": csrf_of(attacker.get("/portal/welcome/x").text)}
        statuses = [attacker.post("/portal/welcome", data={**form, "token": f"guess{i}"})
                    for i in range(6)]
        assert [r.status_code for r in statuses[:3]] == [400, 400, 400]
        assert statuses[-1].status_code == 429 and int(statuses[-1].headers["retry-after"]) >= 1
        assert "links that do not work" in statuses[-1].text
        parent = TestClient(app, follow_redirects=False, client=("198.51.100.7", 5000))
        opened = parent.post("/portal/welcome", data={
            "csrf": csrf_of(parent.get(f"/portal/welcome/{token}").text), "token": token})
        assert opened.status_code == 303  # a working link from elsewhere is never held back
