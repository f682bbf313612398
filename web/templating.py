"""The Jinja2 environment shared by every page module (kept apart from the app to avoid cycles)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from web.security import csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["csrf_token"] = csrf_token


def school_name(request: Request) -> str | None:
    """The school's name (GATEKEEPER_SCHOOL_NAME) for the portal's title, from this app's own
    settings (several apps with different settings share these templates in tests)."""
    ctx = getattr(request.app.state, "ctx", None)
    return ctx.settings.school_name if ctx is not None else None


templates.env.globals["school_name"] = school_name


def _install_form_helpers() -> None:
    from web.flash import form_keys, take_form_error  # web.flash imports web.security too

    templates.env.globals["form_keys"] = form_keys
    templates.env.globals["take_form_error"] = take_form_error


_install_form_helpers()
