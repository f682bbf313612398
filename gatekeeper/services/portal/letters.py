"""Every e-mail Gatekeeper sends, built and sent here and nowhere else: the portal invitation
(or reminder) and the confirmation of a family's answers. The services that send mail say what
happened; this module words it, and hands it to the one transport the settings choose (SMTP, or
`.eml` files in the instance's outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from gatekeeper.adapters.mail import MailError, drop_undelivered, mailer_for, message, outbox_folder
from gatekeeper.config import Settings
from gatekeeper.services.accounts.school import school_name, sender
from gatekeeper.services.consent import decisions
from gatekeeper.services.context import Context

__all__ = ["Letterhead", "MailError", "confirmation", "forget_undelivered", "invitation",
           "letterhead", "send", "transport"]


@dataclass(frozen=True)
class Letterhead:
    """Who parents see a message from: the school's name (if known) and the From line."""

    school: str | None
    sender: str


def letterhead(ctx: Context) -> Letterhead:
    """The school's name and From line, read once for a batch of messages."""
    return Letterhead(school_name(ctx), sender(ctx))


def transport(settings: Settings) -> str:
    """How mail leaves ("smtp" or "outbox"), recorded with each link sent."""
    return mailer_for(settings.smtp_url, settings.home).via


def send(settings: Settings, messages: Iterable[EmailMessage]) -> int:
    """Deliver a batch over one connection; MailError when the server did not take it."""
    return mailer_for(settings.smtp_url, settings.home).deliver(messages)


def forget_undelivered(settings: Settings, addresses: set[str]) -> int:
    """Messages still in the outbox folder for these addresses, deleted (their person or
    contact is being deleted); SMTP keeps nothing here, but an outbox from before may."""
    return drop_undelivered(outbox_folder(settings.home), addresses)


def _subject(school_name: str | None, reminder: bool) -> str:
    """Parents open a message from their school, not from "Gatekeeper": its name comes first."""
    subject = "Photo consent: " + ("a reminder" if reminder else "your answers")
    return f"{school_name}: {subject[0].lower()}{subject[1:]}" if school_name else subject


def invitation(head: Letterhead, *, to: str, name: str, children: list[str], url: str,
               days: int, reminder: bool, pupil: bool) -> EmailMessage:
    """A portal link for a parent (covering `children`) or for a pupil with their own voice."""
    who = "your" if pupil else "your child's" if len(children) == 1 else "your children's"
    opening = ("This is a reminder: some of your answers for this school year are still "
               "missing." if reminder else
               "The school asks every year which uses of photos you agree to.")
    kids = "" if pupil else f"\nThis link covers: {', '.join(children)}.\n"
    body = (f"Dear {name},\n\n{opening}\n{kids}\n"
            f"Open this link to give or refuse consent for {who} photos (displays and "
            "newsletters, print and press, the website and social media, keeping photos after "
            "leaving) and for face recognition:\n\n"
            f"{url}\n\n"
            f"The link works once and expires in {days} days. It is for you only: please do not "
            "forward it.\n\n"
            "About face recognition (Protection of Freedoms Act 2012): the school would like to "
            "recognise pupils in its photos automatically, so that each pupil is shown only "
            "where consent was given and covered everywhere else. It is used only with the "
            "consent of at least one parent, never if any parent objects in writing, and never "
            "if the pupil refuses, at any age. Without it, the pupil's face is always covered.\n")
    return message(sender=head.sender, to=to, subject=_subject(head.school, reminder), body=body)


def confirmation(head: Letterhead, *, to: str, name: str, child: str, year: str,
                 answers: dict[str, bool], withdrawn: bool) -> EmailMessage:
    """What was recorded for `child` (a withdrawal: that it has taken effect)."""
    lines = [f"Dear {name},", "",
             f"We have recorded your answers for {child} for the academic year {year}:", ""]
    for use, granted in answers.items():
        lines.append(f"- {decisions.USE_TEXT[use][0]}: "
                     f"{'consent given' if granted else 'consent refused'}")
    if withdrawn:
        lines += ["", "Where consent has ended, photos of " + child + " already published are "
                  "being taken down now, and no new ones will be published."]
    lines += ["", "You can change your answers at any time with a new link from the school.",
              "If you did not make this change, contact the school office at once."]
    subject = f"{head.school + ': y' if head.school else 'Y'}our photo consent answers for {child}"
    return message(sender=head.sender, to=to, subject=subject, body="\n".join(lines))
