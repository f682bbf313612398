"""The consent portal: contacts, single-use links, who may decide, how answers add up, and
what a withdrawal or an objection does. Database-independent rules run on SQLite; the whole
path runs on PostgreSQL too."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consent_db.models import (
    AuditEvent,
    ConsentDecision,
    ConsentRecord,
    FaceTemplate,
    Person,
    PortalInvitation,
    utcnow,
)
from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.services.consent import decisions
from gatekeeper.services.portal import answers as portal_answers
from gatekeeper.services.portal import contacts, invitations
from gatekeeper.services.portal import visits as portal
from gatekeeper.services.portal.invitations import Audience
from tests.integration.helpers import PEOPLE_HEADER, users

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CONTACTS_HEADER = ("contact_id,external_id,given_name,family_name,email,"
                   "parental_responsibility,no_contact\n")


def pupil(ext: str, year: str = "Year 5", email_address: str = "") -> str:
    return (f"{ext},Given{ext},Family{ext},pupil,{year},2020-09-01,,yes,no,"
            f"{email_address}\n")


def school_people(ctx) -> None:
    data = (PEOPLE_HEADER.strip() + ",email\n" + pupil("P1") + pupil("P2") +
            pupil("P3", "Year 9", "p3@pupils.example.org") + pupil("P4", "Year 3"))
    from gatekeeper.services.consent.people import import_csv

    import_csv(ctx=ctx, kind="people", data=data.encode())


FAMILIES = (CONTACTS_HEADER +
            "C1,P1,Ann,Family1,ann@example.org,yes,no\n"
            "C1,P2,Ann,Family1,ann@example.org,yes,no\n"   # one contact, two children
            "C2,P1,Bob,Family1,bob@example.org,yes,no\n"   # second parent of P1
            "C3,P3,Cat,Family3,cat@example.org,yes,no\n"
            "C4,P3,Dan,Family3,dan@example.org,yes,yes\n"  # court order: no contact
            "C5,P4,Eve,Family4,eve@example.org,no,no\n")   # no parental responsibility


def setup_school(ctx) -> dict:
    u = users(ctx)
    school_people(ctx)
    contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=u["dpo1"].id)
    return u


def links_by_recipient(report) -> dict[str, str]:
    return {link.recipient: link.url.rsplit("/", 1)[1] for link in report.links}


def open_as(ctx, token: str) -> portal.PortalActor:
    return portal.portal_actor(ctx=ctx, session_id=portal.open_session(ctx=ctx, token=token))


def answer(ctx, actor, person_ext: str, **answers: bool) -> portal_answers.DecideResult:
    _year, cards = portal_answers.children(ctx=ctx, actor=actor)
    handle = next(c.handle for c in cards if c.given_name == f"Given{person_ext}")
    return portal_answers.decide(ctx=ctx, actor=actor, handle=handle, answers=answers,
                         signed_name=actor.name, client_address="192.0.2.7",
                         user_agent="test-agent")


def record(ctx, ext: str, channel: str) -> ConsentRecord | None:
    with ctx.uow() as uow:
        return uow.session.scalar(select(ConsentRecord).join(Person).where(
            Person.external_id == ext, ConsentRecord.channel == channel))


@SQLITE_ONLY
def test_contacts_import_is_all_or_nothing_idempotent_and_names_the_row(ctx):
    setup_school(ctx)
    again = contacts.import_contacts(ctx=ctx, data=FAMILIES.encode(), actor_id=None)
    assert (again.created, again.updated, again.removed, again.links_added,
            again.links_changed, again.links_removed) == (0, 0, 0, 0, 0, 0)
    assert again.unchanged == 5 and again.may_decide == 3
    before = contacts.portal_counts(ctx=ctx)
    for bad, message in (
            ("C9,NOPE,Zed,Z,z@example.org,yes,no\n", "row 2, column external_id: no such child"),
            ("C9,P1,Zed,Z,not-an-address,yes,no\n", "row 2, column email: not a valid e-mail"),
            ("C9,P1,Zed,Z,z@example.org,maybe,no\n", "row 2, column parental_responsibility"),
            ("C9,P1,Zed,Z,z@example.org,yes,no\nC9,P2,Zed,Other,z@example.org,yes,no\n",
             "row 3, column contact_id: same contact as row 2")):
        with pytest.raises(InvalidInput, match=re.escape(message)):
            contacts.import_contacts(ctx=ctx, data=(CONTACTS_HEADER + bad).encode(), actor_id=None)
    assert contacts.portal_counts(ctx=ctx) == before


@SQLITE_ONLY
def test_invitations_reach_only_contacts_who_may_decide_and_links_work_once(ctx):
    setup_school(ctx)
    report = invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None)
    assert report.via == "outbox"
    # C1 (two children, one link), C2, C3 and pupil P3 (Year 9, own address); not C4 or C5
    assert sorted(links_by_recipient(report)) == ["C1", "C2", "C3", "P3"]
    assert report.barred == 2 and report.children_without_contact == 1  # P4
    outbox = sorted(Path(ctx.settings.home, "outbox").glob("*.eml"))
    assert len(outbox) == 4 and all(p.stat().st_mode & 0o777 == 0o600 for p in outbox)
    mails = [email.message_from_bytes(p.read_bytes()) for p in outbox]
    ann = next(m for m in mails if m["To"] == "ann@example.org")
    body = ann.get_payload(decode=True).decode()
    assert "GivenP1, GivenP2" in body and "http://127.0.0.1:8000/portal/welcome/" in body
    assert "Protection of Freedoms Act 2012" in body
    with ctx.uow() as uow:  # only the hashes are kept
        hashes = set(uow.session.scalars(select(PortalInvitation.token_hash)))
    tokens = links_by_recipient(report)
    assert not hashes & set(tokens.values())

    actor = open_as(ctx, tokens["C1"])
    assert actor.name == "Ann Family1"
    with pytest.raises(InvalidInput, match="already been used"):
        portal.open_session(ctx=ctx, token=tokens["C1"])
    with pytest.raises(InvalidInput, match="not valid"):
        portal.open_session(ctx=ctx, token=tokens["C2"][:-2] + "xx")
    with ctx.uow() as uow:  # C2's link is past its date
        inv = uow.session.scalar(select(PortalInvitation).where(
            PortalInvitation.token_hash == portal.token_hash(tokens["C2"])))
        inv.expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    with pytest.raises(InvalidInput, match="expired"):
        portal.open_session(ctx=ctx, token=tokens["C2"])


@SQLITE_ONLY
def test_a_contact_reaches_only_their_own_children(ctx):
    setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    ann, cat = open_as(ctx, tokens["C1"]), open_as(ctx, tokens["C3"])
    _year, cards = portal_answers.children(ctx=ctx, actor=ann)
    assert sorted(c.given_name for c in cards) == ["GivenP1", "GivenP2"]
    _year, cat_cards = portal_answers.children(ctx=ctx, actor=cat)
    assert [c.given_name for c in cat_cards] == ["GivenP3"]
    with pytest.raises(NotFound):  # Cat tries Ann's child's handle
        portal_answers.decide(ctx=ctx, actor=cat, handle=cards[0].handle, answers={"online": False},
                      signed_name="Cat Family3", client_address="", user_agent="")
    # the MIS later records a court order for Cat: her open visit ends at once
    contacts.import_contacts(ctx=ctx, data=FAMILIES.replace(
        "C3,P3,Cat,Family3,cat@example.org,yes,no", "C3,P3,Cat,Family3,cat@example.org,yes,yes"
    ).encode(), actor_id=None)
    with pytest.raises(Exception, match="visit has ended"):
        portal.portal_actor(ctx=ctx, session_id=cat.session_id)


@SQLITE_ONLY
def test_answers_are_evidenced_and_two_parents_who_disagree_mean_refused(ctx):
    setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    ann, bob = open_as(ctx, tokens["C1"]), open_as(ctx, tokens["C2"])
    result = answer(ctx, ann, "P1", online=True, display=True)
    assert result.recorded == 2 and result.granted == ["display", "online"]
    assert record(ctx, "P1", "online").granted
    assert answer(ctx, ann, "P1", online=True).recorded == 0  # the same answer again
    with ctx.uow() as uow:
        d = uow.session.scalars(select(ConsentDecision)).first()
        assert (d.signed_name, d.client_address, d.user_agent) == ("Ann Family1", "192.0.2.7",
                                                                   "test-agent")
        assert "Website and social media" in d.form_text and "I give consent" in d.form_text
        by = [e.details.get("by") for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "consent.decided"))]
        assert by == ["contact:C1"]

    withdrawn = answer(ctx, bob, "P1", online=False)
    assert withdrawn.withdrawn == ["online"]
    rec = record(ctx, "P1", "online")
    assert not rec.granted and rec.withdrawn_on is not None
    _year, rows = decisions.overview(ctx=ctx)
    p1 = next(r for r in rows if r.external_id == "P1")
    assert p1.disagreement and p1.uses["online"].state == "withdrawn"
    assert "parents disagree" in p1.uses["online"].reason
    assert p1.uses["display"].state == "given"
    p4 = next(r for r in rows if r.external_id == "P4")
    assert p4.may_decide == 0 and p4.needs_attention


@SQLITE_ONLY
def test_a_pupil_with_a_voice_refuses_over_a_parent_and_younger_ones_do_not_count(ctx):
    setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    cat, p3 = open_as(ctx, tokens["C3"]), open_as(ctx, tokens["P3"])
    answer(ctx, cat, "P3", online=True, print=True)
    assert record(ctx, "P3", "online").granted
    answer(ctx, p3, "P3", online=False)
    assert not record(ctx, "P3", "online").granted
    assert record(ctx, "P3", "print").granted  # only what the pupil refused
    _year, rows = decisions.overview(ctx=ctx)
    assert "refused by the pupil" in next(
        r for r in rows if r.external_id == "P3").uses["online"].reason
    # the DPO moves the voice to Year 10: P3 (Year 9) no longer decides, and has no link
    from gatekeeper.services.accounts import options

    options.set_option(ctx=ctx, option=decisions.PUPIL_VOICE_FROM_YEAR, value=10, actor_id=None)
    with pytest.raises(Exception, match="visit has ended"):
        portal.portal_actor(ctx=ctx, session_id=p3.session_id)
    again = invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None)
    assert "P3" not in links_by_recipient(again)


@SQLITE_ONLY
def test_reminders_go_only_to_families_with_decisions_missing(ctx):
    setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    cat = open_as(ctx, tokens["C3"])
    answer(ctx, cat, "P3", display=True, print=True, online=False, retain=False)
    reminder = invitations.invite(ctx=ctx, audience=Audience.MISSING, actor_id=None)
    assert sorted(links_by_recipient(reminder)) == ["C1", "C2"]  # P3 is decided; P4 has nobody
    year7 = invitations.invite(ctx=ctx, audience=Audience.YEAR_GROUP, year_group=9,
                               actor_id=None)
    assert sorted(links_by_recipient(year7)) == ["C3", "P3"]
    csv_text = invitations.links_csv(year7)
    assert csv_text.splitlines()[0] == "contact,email,link"
    assert "cat@example.org" in csv_text


def test_a_parents_biometric_objection_deletes_every_template(ctx, school):
    from gatekeeper.services.consent.people import import_csv

    import_csv(ctx=ctx, kind="people", data=(PEOPLE_HEADER.strip() + ",email\n" + pupil("TOM")
                                             ).encode())  # TOM stays enrolled
    contacts.import_contacts(ctx=ctx, data=(
        CONTACTS_HEADER + "M1,TOM,Mia,Cruise,mia@example.org,yes,no\n"
        "M2,TOM,Max,Cruise,max@example.org,yes,no\n").encode(), actor_id=None)
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(FaceTemplate).join(Person)
                                  .where(Person.external_id == "TOM")) >= 1
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    mia, max_ = open_as(ctx, tokens["M1"]), open_as(ctx, tokens["M2"])
    answer(ctx, mia, "TOM", biometric=True)
    result = answer(ctx, max_, "TOM", biometric=False)  # one written objection is enough
    assert result.withdrawn == ["biometric"]
    with ctx.uow() as uow:
        tom = uow.session.scalar(select(Person).where(Person.external_id == "TOM"))
        assert not tom.biometric_consent
        assert uow.session.scalar(select(func.count()).select_from(FaceTemplate).where(
            FaceTemplate.person_id == tom.id)) == 0
        assert uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "template.deleted")) >= 1
    _year, rows = decisions.overview(ctx=ctx)
    tom_state = next(r for r in rows if r.external_id == "TOM").uses["biometric"]
    assert tom_state.state == "refused" and "objection by Max Cruise" in tom_state.reason


@SQLITE_ONLY
def test_parents_commands(ctx, tmp_path, capsys, monkeypatch):
    """`gatekeeper parents import / invite / status / voice` on the same instance."""
    import json

    from gatekeeper.entrypoints.cli import main

    setup_school(ctx)
    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    monkeypatch.setenv("GATEKEEPER_PUBLIC_URL", "https://consent.school.example")
    home = ["--home", str(ctx.settings.home)]
    contacts_csv = tmp_path / "contacts.csv"
    contacts_csv.write_text(FAMILIES)
    assert main(["parents", "import", str(contacts_csv), "--by", "dpo1", *home]) == 0
    assert "0 created, 0 updated, 5 unchanged" in capsys.readouterr().out
    contacts_csv.write_text(CONTACTS_HEADER + "C9,NOPE,Zed,Z,z@example.org,yes,no\n")
    assert main(["parents", "import", str(contacts_csv), "--by", "dpo1", *home]) == 1
    assert "row 2, column external_id: no such child" in capsys.readouterr().err
    assert main(["parents", "import", str(contacts_csv), "--by", "office1", *home]) != 0
    capsys.readouterr()
    links = tmp_path / "links.csv"
    assert main(["parents", "invite", "--year-group", "5", "--csv", str(links), "--by", "dpo1",
                 *home]) == 0
    assert "2 parent/carer and 0 pupil invitation(s) written to the outbox" in \
        capsys.readouterr().out
    assert links.read_text().count("/portal/welcome/") == 2 and links.stat().st_mode & 0o077 == 0
    assert main(["parents", "voice", "10", "--by", "dpo1", *home]) == 0
    capsys.readouterr()
    assert main(["parents", "status", "--attention", "--json", *home]) == 0
    status = json.loads(capsys.readouterr().out)
    assert {c["external_id"] for c in status["children"]} == {"P1", "P2", "P3", "P4"}
    with pytest.raises(SystemExit) as refused:  # who to invite must be said
        main(["parents", "invite", "--by", "dpo1", *home])
    assert refused.value.code == 2 and "one of the arguments --all" in capsys.readouterr().err


@SQLITE_ONLY
def test_erasing_a_child_erases_their_portal_answers_and_a_parent_left_with_no_child(ctx):
    from consent_db.models import Contact, ContactChild
    from gatekeeper.services.dpo.purge import erase_person

    u = setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    answer(ctx, open_as(ctx, tokens["C3"]), "P3", online=True)
    erase_person(ctx=ctx, external_id="P3", user=u["dpo1"])
    with ctx.uow() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(ConsentDecision)) == 0
        refs = set(s.scalars(select(Contact.ref)))
        assert refs == {"C1", "C2", "C5"}  # Cat and Dan had only P3
        assert s.scalar(select(func.count()).select_from(ContactChild)) == 4
        cert = s.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.issued")
                         ).one().details
        assert cert["deleted"]["portal_answers"] == 1 and cert["deleted"]["contacts"] == 2


def test_a_young_pupils_refusal_of_face_recognition_deletes_templates(ctx, school, capsys,
                                                                      monkeypatch):
    """PoFA: the pupil's refusal counts at any age (TOM is in Year 5, without a voice)."""
    from gatekeeper.entrypoints.cli import main

    monkeypatch.setenv("GATEKEEPER_DATABASE_URL", ctx.settings.resolved_database_url)
    assert main(["parents", "pupil-refuses", "TOM", "--use", "biometric", "--note",
                 "told their class teacher", "--by", "dpo1", "--home",
                 str(ctx.settings.home)]) == 0
    assert "consent ended for biometric" in capsys.readouterr().out
    with ctx.uow() as uow:
        tom = uow.session.scalar(select(Person).where(Person.external_id == "TOM"))
        assert not tom.biometric_consent and not tom.templates
    _year, rows = decisions.overview(ctx=ctx)
    assert "the pupil refused" in next(
        r for r in rows if r.external_id == "TOM").uses["biometric"].reason


def test_one_link_used_by_two_requests_at_once_opens_one_visit(ctx):
    """Both databases: the link is consumed by one conditional update, never twice."""
    from concurrent.futures import ThreadPoolExecutor

    setup_school(ctx)
    token = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL,
                                                  actor_id=None))["C1"]

    def try_open(_: int) -> str:
        try:
            return portal.open_session(ctx=ctx, token=token)
        except InvalidInput as exc:
            return str(exc)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(try_open, range(4)))
    assert sum("already been used" in r for r in results) == 3, results


@SQLITE_ONLY
def test_an_older_paper_form_never_overrides_a_newer_portal_answer(ctx):
    from datetime import date

    from gatekeeper.services.consent.people import import_csv

    setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    answer(ctx, open_as(ctx, tokens["C3"]), "P3", online=False)
    year = record(ctx, "P3", "online").academic_year
    old_form = ("external_id,academic_year,channel,granted,recorded_on,evidence\n"
                f"P3,{year},online,yes,{date.today() - timedelta(days=30)},paper\n")
    report = import_csv(ctx=ctx, kind="consent", data=old_form.encode())
    assert report.updated == 0 and report.changes[0].kept
    assert "in the portal on" in report.changes[0].set_in_app
    assert not record(ctx, "P3", "online").granted


@SQLITE_ONLY
def test_subject_access_export_holds_portal_answers_without_the_parents_identity(ctx):
    import io
    import zipfile

    from gatekeeper.services.dpo.register import subject_access_export

    u = setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    answer(ctx, open_as(ctx, tokens["C3"]), "P3", online=False, display=True)
    export = subject_access_export(ctx=ctx, external_id="P3", user=u["dpo1"])
    with zipfile.ZipFile(io.BytesIO(export.data)) as zf:
        text = " ".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                        if n.endswith((".json", ".html")))
    assert "Answers given in the consent portal" in text and "a parent or carer" in text
    for other in ("Cat", "Family3", "cat@example.org", "C3", "Dan"):
        assert other not in text, other


@SQLITE_ONLY
def test_links_end_when_an_address_or_rights_change_and_a_new_link_replaces_the_old(ctx):
    from gatekeeper.services.consent.people import import_csv

    setup_school(ctx)
    first = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    second = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL,
                                                   actor_id=None))
    with pytest.raises(InvalidInput, match="expired"):  # replaced by the newer link
        portal.open_session(ctx=ctx, token=first["C1"])
    contacts.import_contacts(ctx=ctx, data=FAMILIES.replace(
        "C3,P3,Cat,Family3,cat@example.org", "C3,P3,Cat,Family3,cat@new.example.org").encode(),
        actor_id=None)
    with pytest.raises(InvalidInput, match="expired"):  # sent to the old address
        portal.open_session(ctx=ctx, token=second["C3"])
    people_csv = (PEOPLE_HEADER.strip() + ",email\n" + pupil("P1") + pupil("P2")
                  + pupil("P3", "Year 9", "p3@new.example.org") + pupil("P4", "Year 3"))
    import_csv(ctx=ctx, kind="people", data=people_csv.encode())
    with pytest.raises(InvalidInput, match="expired"):
        portal.open_session(ctx=ctx, token=second["P3"])
    assert open_as(ctx, second["C1"]).name == "Ann Family1"  # others are untouched


@SQLITE_ONLY
def test_consent_given_by_a_parent_who_loses_parental_responsibility_ends(ctx):
    from gatekeeper.services.consent.people import import_csv

    setup_school(ctx)
    tokens = links_by_recipient(invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None))
    bob = open_as(ctx, tokens["C2"])
    answer(ctx, bob, "P1", retain=True, biometric=True)
    assert record(ctx, "P1", "retain").granted
    # the MIS export still says "no" for biometric consent: the parents' portal answer stands
    report = import_csv(ctx=ctx, kind="people", data=(PEOPLE_HEADER.strip() + ",email\n" + pupil(
        "P1").replace(",yes,no,", ",no,no,") + pupil("P2") + pupil(
        "P3", "Year 9", "p3@pupils.example.org") + pupil("P4", "Year 3")).encode())
    assert any(c.kept and c.field == "biometric_consent" for c in report.changes)
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Person).where(Person.external_id == "P1")
                                  ).biometric_consent
    result = contacts.import_contacts(ctx=ctx, data=FAMILIES.replace(
        "C2,P1,Bob,Family1,bob@example.org,yes,no", "C2,P1,Bob,Family1,bob@example.org,no,no"
    ).encode(), actor_id=None)
    assert len(result.consent_ended) == 1
    rec = record(ctx, "P1", "retain")
    assert not rec.granted and rec.withdrawn_on is not None
    with ctx.uow() as uow:
        assert not uow.session.scalar(select(Person).where(Person.external_id == "P1")
                                      ).biometric_consent
    _year, rows = decisions.overview(ctx=ctx)
    p1 = next(r for r in rows if r.external_id == "P1")
    assert p1.uses["retain"].state == "withdrawn"
    assert "paper form" not in p1.uses["retain"].reason
    assert p1.uses["biometric"].state == "no consent"


@SQLITE_ONLY
def test_erasure_takes_undelivered_invitations_naming_the_pupil_out_of_the_outbox(ctx):
    """Probe: the invitation to a pupil's parent (it names the pupil) stayed in the outbox
    folder after the pupil and the parent were purged. Mail not yet handed on to a contact
    that goes, or to the pupil's own address, goes with them; the others stay."""
    u = setup_school(ctx)
    invitations.invite(ctx=ctx, audience=Audience.ALL, actor_id=None)
    folder = Path(ctx.settings.home, "outbox")
    (folder / "notes.txt").write_text("the school's own file")  # not a message: left alone
    from gatekeeper.services.dpo.purge import erase_person  # deferred: as above

    erase_person(ctx=ctx, external_id="P3", user=u["dpo1"])  # Cat's and Dan's only child
    left = sorted(email.message_from_bytes(p.read_bytes())["To"] for p in folder.glob("*.eml"))
    assert left == ["ann@example.org", "bob@example.org"]
    assert (folder / "notes.txt").exists()
