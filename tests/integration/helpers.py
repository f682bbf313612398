"""Small builders for service-level tests."""

from __future__ import annotations

from datetime import date

from gatekeeper.retention import academic_year
from gatekeeper.services.people import import_consent, import_people
from gatekeeper.services.users import add_user

PEOPLE_HEADER = ("external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
                 "biometric_consent,safeguarding_no_photo\n")


def person_row(ext: str, left: str = "", bio: str = "yes", flag: str = "no") -> str:
    return f"{ext},Given{ext},Family{ext},pupil,Year 5,2020-09-01,{left},{bio},{flag}\n"


def users(ctx) -> dict:
    out = {}
    with ctx.uow() as uow:
        for name, roles in (("office1", "office"), ("editor1", "editor"), ("dpo1", "dpo"),
                            ("gov1", "governor")):
            out[name] = add_user(uow=uow, username=name, roles=roles, password="long-password-1")
        uow.commit()
    return out


def people(ctx, *rows: str) -> None:
    with ctx.uow() as uow:
        import_people(uow=uow, data=(PEOPLE_HEADER + "".join(rows)).encode(), today=date.today())


def consent(ctx, ext: str, channel: str = "online", granted: str = "yes",
            on: date | None = None) -> None:
    on = on or date.today()
    csv = ("external_id,academic_year,channel,granted,recorded_on,evidence\n"
           f"{ext},{academic_year(on)},{channel},{granted},{on.isoformat()},form\n")
    with ctx.uow() as uow:
        import_consent(uow=uow, data=csv.encode())
