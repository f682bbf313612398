"""The Jinja2 environment shared by every page module (kept apart from the app to avoid cycles)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from gatekeeper.services.accounts import school
from web.flash import form_keys, take_form_error
from web.menu import menu_for
from web.security import csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["csrf_token"] = csrf_token


def school_name(request: Request) -> str | None:
    """The school's name (the setting, or the name the DPO recorded) for page titles, from this
    app's own Context (several apps with different settings share these templates in tests);
    read once per request."""
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        return None
    if not hasattr(request.state, "school_name"):
        request.state.school_name = school.school_name(ctx)
    name: str | None = request.state.school_name
    return name


templates.env.globals["school_name"] = school_name

templates.env.globals["form_keys"] = form_keys
templates.env.globals["take_form_error"] = take_form_error
templates.env.globals["menu_for"] = menu_for
