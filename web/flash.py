"""A refused form comes back on the page it was sent from: the reason beside its field and what
was typed still in the form, for every form at once (not page by page).

Each form carries `back`, the address of the page that shows it (`form_keys` writes it beside the
CSRF token). When an action is refused, `web.errors` keeps the reason, the field it is about and
the typed values in the session for one page view and sends the browser back there; the page
shows the reason at the top and `static/forms.js` puts it next to the field and fills the form
again. Passwords, tokens and files are never kept; long values are cut so the signed session
cookie stays small. Without `back` (an API client, an old page) the error page links back to the
page the action belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from markupsafe import Markup, escape
from starlette.datastructures import UploadFile

from gatekeeper.domain.vocabulary import Role
from gatekeeper.services.accounts.users import Actor
from web.security import csrf_token

FLASH_KEY = "form_error"
NEVER_KEPT = ("csrf", "back", "password", "current", "new", "again", "token")
MAX_VALUE = 500  # characters kept of one typed value
MAX_KEPT = 1500  # characters kept of all typed values together (the cookie stays under 4 KB)


def _safe_path(target: str | None) -> str | None:
    """A path on this site, never another site (`//host`, `\\host` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 for c in target) or len(target) > 1000:
        return None
    return target


def here(request: Request) -> str:
    """The address a refused form on this page returns to: this page; for a page that answers a
    POST (an import preview), the page that POST came from."""
    if request.method != "GET":
        return _safe_path(getattr(request.state, "back", None)) or ""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def form_keys(request: Request) -> Markup:
    """The hidden fields every staff form carries: the CSRF token and the page to come back to."""
    return Markup(
        f'<input type="hidden" name="csrf" value="{escape(csrf_token(request))}">'
        f'<input type="hidden" name="back" value="{escape(here(request))}">')


async def keep_form(request: Request) -> None:
    """App-wide dependency: a posted form's text fields, kept for the error handlers (the body
    cannot be read twice). Files stay where they are."""
    if request.method != "POST" or request.url.path.startswith("/api"):
        return
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return
    form = await request.form()  # already parsed and cached when the route takes form fields
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, UploadFile):
            fields.setdefault(key, []).append(str(value))
    request.state.form_fields = fields
    back = fields.get("back", [""])[0]
    request.state.back = _safe_path(back)


def _typed(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    kept: dict[str, list[str]] = {}
    budget = MAX_KEPT
    for key, values in fields.items():
        if key in NEVER_KEPT or "password" in key:
            continue
        cut = [v[:MAX_VALUE] for v in values]
        budget -= sum(len(v) + len(key) for v in cut)
        if budget < 0:
            break
        kept[key] = cut
    return kept


def back_to_form(request: Request, message: str, field: str | None) -> str | None:
    """Keep the refusal for the page the form came from and return its address, or None when
    the form did not say where it came from."""
    back = getattr(request.state, "back", None)
    if not back:
        return None
    request.session[FLASH_KEY] = {
        "action": request.url.path, "message": message[:1000], "field": field,
        "typed": _typed(getattr(request.state, "form_fields", {}))}
    return str(back)


@dataclass(frozen=True)
class FormError:
    action: str
    message: str
    field: str | None
    typed: dict[str, list[str]]


def take_form_error(request: Request) -> FormError | None:
    """The refusal kept for this page view (shown once), if any."""
    if "session" not in request.scope:
        return None
    kept: Any = request.session.pop(FLASH_KEY, None)
    if not isinstance(kept, dict):
        return None
    return FormError(str(kept.get("action", "")), str(kept.get("message", "")),
                     kept.get("field") or None, dict(kept.get("typed") or {}))


SECTIONS = {
    "photos": ("/review", "the review queue"), "faces": ("/review", "the review queue"),
    "people": ("/people", "People and consent"), "parents": ("/parents", "Parents"),
    "users": ("/users", "Users"), "devices": ("/devices", "Cameras"),
    "templates": ("/templates", "Templates to refresh"), "options": ("/options", "Options"),
    "dpo": ("/dpo/records", "Records"), "certificates": ("/certificates", "Certificates"),
    "reports": ("/reports", "Reports"), "uploads": ("/uploads", "My uploads"),
    "upload": ("/upload", "Upload"), "account": ("/account", "My account"),
    "audit": ("/audit", "the audit log"), "live": ("/live", "Live now"),
    "events": ("/events", "Events"), "review": ("/review", "the review queue"),
}


_QUEUE = {"photos", "faces", "review"}  # the review queue's section: reviewers' only


def way_back(request: Request, user: Actor | None = None,
             status: int | None = None) -> tuple[str, str]:
    """Where an error page sends the person back to: the page the form was on, else the page
    the address belongs to (a photo's page, a person's page, the section's list), one they
    may open: not a photo that was not found, and the office's uploads, not the review queue
    they may not see."""
    back = getattr(request.state, "back", None)
    if back:
        return back, "Back to the page you were on"
    parts = [p for p in request.url.path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "photos" and parts[1].isdigit() and status != 404:
        return f"/photos/{parts[1]}", f"Back to photo {parts[1]}"
    if len(parts) >= 3 and parts[0] == "people" and status != 404:
        return f"/people/{parts[1]}", f"Back to {parts[1]}'s page"
    if parts and parts[0] in _QUEUE and user is not None and not user.has(
            Role.EDITOR, Role.DPO):
        return ("/uploads", "Back to My uploads") if user.has(Role.OFFICE) else (
            "/", "Back to the start page")
    if parts and parts[0] in SECTIONS:
        target, name = SECTIONS[parts[0]]
        if target != request.url.path:
            return target, f"Back to {name}"
    return "/", "Back to the start page"
