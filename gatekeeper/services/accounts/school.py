"""The school's own name, where parents and governors meet Gatekeeper (e-mails, the portal,
PDFs, page titles): GATEKEEPER_SCHOOL_NAME when set, else the first line of the controller's
details the DPO recorded on the Records page (the controller is the school)."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from gatekeeper.config import DEFAULT_MAIL_FROM
from gatekeeper.services.accounts import options
from gatekeeper.services.context import Context

CONTROLLER = options.define("controller_details", "",
                            "Controller (the school) and its data protection officer's contact")
MAX_NAME = 120


def name_from_details(details: str | None) -> str | None:
    """The school's name in the controller's details: their first line, up to a comma
    ("Hillside Primary School, 1 High Street" names "Hillside Primary School")."""
    lines = [line.strip() for line in (details or "").splitlines() if line.strip()]
    if not lines:
        return None
    return lines[0].split(",", 1)[0].strip()[:MAX_NAME] or None


def school_name(ctx: Context) -> str | None:
    """The setting, else the name the DPO recorded, else None (pages then say "Gatekeeper")."""
    if ctx.settings.school_name and ctx.settings.school_name.strip():
        return ctx.settings.school_name.strip()
    return name_from_details(options.get(ctx=ctx, option=CONTROLLER))


def sender(ctx: Context) -> str:
    """The From of parents' e-mails: the school's name with the configured address, unless
    GATEKEEPER_MAIL_FROM chose a name of its own."""
    name, address = parseaddr(ctx.settings.mail_from)
    school = school_name(ctx)
    if school and address and name in ("", parseaddr(DEFAULT_MAIL_FROM)[0]):
        return formataddr((school, address))
    return ctx.settings.mail_from
