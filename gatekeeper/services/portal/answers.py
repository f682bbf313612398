"""Answers given in the consent portal: each child's card, the visitor's history, and
recording answers with their evidence (or a pupil's refusal the DPO records). Every answer is
audited with the visitor as the actor and takes effect at once; no photo is ever shown."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.db import UnitOfWork
from consent_db.models import ConsentDecision, ConsentRecord, Person
from gatekeeper.domain.deciders import BIOMETRIC
from gatekeeper.domain.retention import academic_year, on_roll
from gatekeeper.domain.vocabulary import PersonKind, Role
from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.consent import decisions
from gatekeeper.services.context import Context
from gatekeeper.services.portal import letters
from gatekeeper.services.portal.visits import SELF, PortalActor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UseCard:
    use: str
    title: str
    text: str
    mine: bool | None  # this visitor's latest answer
    mine_at: datetime | None
    current: str  # "given" | "not given" | "no decision yet" (the school's record)


@dataclass(frozen=True)
class ChildCard:
    handle: int
    given_name: str
    year_group: str
    uses: list[UseCard]


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    child: str
    use: str
    granted: bool
    signed_name: str


@dataclass
class DecideResult:
    recorded: int = 0
    withdrawn: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    confirmation_sent: bool = False


def _uow(ctx: Context, actor_ref: str) -> UnitOfWork:
    """A unit of work whose audit events name the portal visitor (not a shared Context field:
    web requests run side by side)."""
    return UnitOfWork(ctx.sessions, actor_ref)


def _children(ctx: Context, s: Session, actor: PortalActor) -> dict[int, Person]:
    """handle -> child this visitor may decide for today (checked on every request)."""
    today = ctx.today()
    if actor.pupil_id is not None:
        pupil = s.get(Person, actor.pupil_id)
        return {SELF: pupil} if pupil is not None else {}
    out: dict[int, Person] = {}
    for link in decisions.may_decide(s, actor.contact_id or 0).values():
        child = s.get(Person, link.person_id)
        if child is not None and child.kind == PersonKind.PUPIL and on_roll(child.left_on, today):
            out[link.id] = child
    return out


def _mine(s: Session, actor: PortalActor, person_id: int, year: str) -> dict[str, ConsentDecision]:
    query = select(ConsentDecision).where(ConsentDecision.person_id == person_id,
                                          ConsentDecision.academic_year == year)
    query = query.where(ConsentDecision.by_pupil.is_(True)) if actor.pupil_id else query.where(
        ConsentDecision.contact_id == actor.contact_id, ConsentDecision.by_pupil.is_(False))
    return {d.channel: d for d in s.scalars(query.order_by(ConsentDecision.id))}


def children(*, ctx: Context, actor: PortalActor) -> tuple[str, list[ChildCard]]:
    """The current academic year and a card per child: each use, this visitor's answer and the
    school's current record (never another family's data, never a photo)."""
    year = academic_year(ctx.today(), *ctx.year_start)
    with ctx.uow() as uow:
        s = uow.session
        cards = []
        for handle, child in sorted(_children(ctx, s, actor).items(),
                                    key=lambda kv: kv[1].given_name):
            mine = _mine(s, actor, child.id, year)
            records = {r.channel: r.granted for r in s.scalars(select(ConsentRecord).where(
                ConsentRecord.person_id == child.id, ConsentRecord.academic_year == year))}
            uses = []
            for use in decisions.USES:
                title, text = decisions.USE_TEXT[use]
                if use == BIOMETRIC:
                    current = "given" if child.biometric_consent else "not given"
                else:
                    held = records.get(use)
                    current = "no decision yet" if held is None else (
                        "given" if held else "not given")
                d = mine.get(use)
                uses.append(UseCard(use, title, text.format(child=child.given_name),
                                    d.granted if d else None, d.decided_at if d else None,
                                    current))
            cards.append(ChildCard(handle, child.given_name, child.year_group or "", uses))
        return year, cards


def history(*, ctx: Context, actor: PortalActor) -> list[HistoryEntry]:
    """Every answer this visitor has given, newest first."""
    with ctx.uow() as uow:
        s = uow.session
        kids = {c.id: c.given_name for c in _children(ctx, s, actor).values()}
        query = select(ConsentDecision).where(ConsentDecision.person_id.in_(kids or {0}))
        query = query.where(ConsentDecision.by_pupil.is_(True)) if actor.pupil_id else \
            query.where(ConsentDecision.contact_id == actor.contact_id)
        return [HistoryEntry(d.decided_at, kids[d.person_id], decisions.USE_TEXT[d.channel][0],
                             d.granted, d.signed_name)
                for d in s.scalars(query.order_by(ConsentDecision.id.desc()).limit(500))]


def _check_signature(signed_name: str) -> str:
    """A typed name: letters, spaces and the punctuation names use; no control or invisible
    formatting characters (a right-to-left override could make it read as someone else)."""
    name = " ".join(signed_name.split())
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") or ch == "\ufffd"
           for ch in name):
        raise InvalidInput("the signature may hold only your name, without hidden characters",
                           field="signed_name")
    if sum(ch.isalpha() for ch in name) < 2:
        raise InvalidInput("type your full name to sign your answers", field="signed_name")
    if len(name) > 200:
        raise InvalidInput("the signature must be your name, at most 200 characters",
                           field="signed_name")
    return name


def decide(*, ctx: Context, actor: PortalActor, handle: int, answers: dict[str, bool],
           signed_name: str, client_address: str, user_agent: str) -> DecideResult:
    """Record this visitor's answers for one child and this academic year, with the evidence,
    resolve them with everyone else's, and take effect at once: a withdrawal queues the
    takedown of every live copy that showed the child."""
    unknown = sorted(set(answers) - set(decisions.USES))
    if unknown or not answers:
        raise InvalidInput("choose give or refuse for at least one use")
    name = _check_signature(signed_name)
    today = ctx.today()
    year = academic_year(today, *ctx.year_start)
    result = DecideResult()
    with _uow(ctx, actor.ref) as uow:
        s = uow.session
        child = _children(ctx, s, actor).get(handle)
        if child is None:
            raise NotFound("no such child in your account")
        mine = _mine(s, actor, child.id, year)
        text = decisions.form_text(child.given_name, year, answers)
        new = []
        for use in decisions.USES:
            if use not in answers or (use in mine and mine[use].granted == answers[use]):
                continue
            row = ConsentDecision(person_id=child.id, academic_year=year, channel=use,
                                  granted=answers[use], contact_id=actor.contact_id,
                                  by_pupil=actor.pupil_id is not None, signed_name=name,
                                  client_address=client_address[:64],
                                  user_agent=user_agent[:255], form_text=text)
            s.add(row)
            new.append(row)
        if not new:
            return result
        s.flush()
        audit.record(s, "consent.decided", "person", child.id, None,
                     decisions={d.channel: d.granted for d in new},
                     decision_ids=[d.id for d in new], academic_year=year)
        applied = decisions.apply(s, child, year, today,
                                  evidence=f"portal decision {','.join(str(d.id) for d in new)}")
        uow.commit()
        child_name = child.given_name
    result.recorded, result.withdrawn, result.granted = len(new), applied.withdrawn, applied.granted
    ctx.jobs.reconcile(sorted(applied.photo_ids))
    result.confirmation_sent = _confirm(ctx, actor, child_name, year,
                                        {d.channel: d.granted for d in new}, applied)
    return result


def _confirm(ctx: Context, actor: PortalActor, child: str, year: str,
             answers: dict[str, bool], applied: decisions.Applied) -> bool:
    """Tell the visitor what was recorded (a withdrawal: that it has taken effect)."""
    if not actor.email:
        return False
    msg = letters.confirmation(letters.letterhead(ctx), to=actor.email, name=actor.name,
                               child=child, year=year, answers=answers,
                               withdrawn=bool(applied.withdrawn))
    try:
        letters.send(ctx.settings, [msg])
    except (letters.MailError, OSError) as exc:  # the answers stand; the page says it was not sent
        log.warning("portal confirmation not sent: %s", type(exc).__name__)
        return False
    return True



def record_pupil_refusal(*, ctx: Context, external_id: str, uses: list[str], note: str,
                         actor_id: int, actor_name: str) -> DecideResult:
    """A pupil tells the school they refuse (face recognition at any age; other uses once they
    have a voice): the DPO records it as the pupil's answer, with the DPO named as recorder."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    unknown = sorted(set(uses) - set(decisions.USES))
    if unknown or not uses:
        raise InvalidInput(f"uses are {', '.join(decisions.USES)}")
    note = " ".join(note.split())
    if not note or len(note) > 500:
        raise InvalidInput("say how the pupil told the school (at most 500 characters)")
    today = ctx.today()
    year = academic_year(today, *ctx.year_start)
    with ctx.uow() as uow:
        s = uow.session
        child = s.scalar(select(Person).where(Person.external_id == external_id,
                                              Person.kind == PersonKind.PUPIL))
        if child is None:
            raise NotFound(f"no pupil with external id {external_id}")
        text = decisions.form_text(child.given_name, year, dict.fromkeys(uses, False))
        rows = [ConsentDecision(person_id=child.id, academic_year=year, channel=use,
                                granted=False, by_pupil=True,
                                signed_name="recorded by the school", client_address="",
                                user_agent="", form_text=f"{text}\n\nHow the pupil told the "
                                f"school: {note}") for use in uses]
        s.add_all(rows)
        s.flush()
        audit.record(s, "consent.decided", "person", child.id, actor_id,
                     decisions=dict.fromkeys(uses, False), decision_ids=[r.id for r in rows],
                     academic_year=year, pupil=True, recorded_by=actor_name)
        applied = decisions.apply(s, child, year, today,
                                  evidence=f"pupil refusal {','.join(str(r.id) for r in rows)}",
                                  actor_id=actor_id)
        uow.commit()
    ctx.jobs.reconcile(sorted(applied.photo_ids))
    return DecideResult(len(rows), applied.withdrawn, applied.granted)
