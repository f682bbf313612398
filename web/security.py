"""Sessions, CSRF tokens and slowing down repeated failed sign-ins."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

from fastapi import Request

from gatekeeper.config import Settings
from gatekeeper.errors import PermissionDenied


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept (0600) in the instance home."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise PermissionDenied("the form's security token is missing or stale: reload the page")


class SignInThrottle:
    """After 3 failures for a user name, each further attempt waits 2^n seconds (max 30)."""

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_time(self, username: str) -> float:
        with self._lock:
            count, last = self._failures.get(username.lower(), (0, 0.0))
        if count < 3:
            return 0.0
        return max(0.0, min(30.0, 2.0 ** (count - 3)) - (time.monotonic() - last))

    def failed(self, username: str) -> None:
        with self._lock:
            count, _ = self._failures.get(username.lower(), (0, 0.0))
            self._failures[username.lower()] = (count + 1, time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username.lower(), None)
