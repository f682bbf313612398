"""The Jinja2 environment shared by every page module (kept apart from the app to avoid cycles)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from web.security import csrf_token

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["csrf_token"] = csrf_token
