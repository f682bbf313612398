"""One error family: every refusal is a GatekeeperError subclass with a one-line reason.

Each class carries its HTTP status and CLI exit code, so the web app and the CLI map a refusal
in exactly one place each (`web/errors.py`, `gatekeeper/entrypoints/cli.py`).
"""

from __future__ import annotations

from typing import ClassVar


class GatekeeperError(Exception):
    """Base of every refusal that has a one-line reason for the user. `field` names the form
    field the reason is about (a page shows the reason beside it), when there is one."""

    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1
    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field


class InvalidInput(GatekeeperError):
    """Input that cannot be accepted as given: a bad CSV row, date, name or channel."""


class NotFound(GatekeeperError):
    """A record the caller named does not exist."""

    http_status = 404


class PermissionDenied(GatekeeperError):
    """The acting user may not do this (role or separation of duties)."""

    http_status = 403


class SignInRequired(GatekeeperError):
    """No valid session: pages redirect to sign-in, the API answers 401."""

    http_status = 401


class TooManyAttempts(GatekeeperError):
    """Sign-in attempts are being throttled; try again later."""

    http_status = 429


class InvalidImage(InvalidInput):
    """Bytes that are not an acceptable image: unknown format, truncated, corrupt or a bomb."""


class NotAnImage(InvalidImage):
    """Bytes in no image format Gatekeeper reads (an upload may still be a video)."""


class TooLarge(InvalidInput):
    """A file or request over a documented limit."""

    http_status = 413


class EnrolmentRefused(GatekeeperError):
    """A reference photo or person that cannot give a face template. `refusals`: each refused
    photo's name and why (empty when the person, not a photo, was refused)."""

    def __init__(self, message: str, refusals: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.refusals = refusals


class InvalidState(GatekeeperError):
    """The record is not in a state that allows this step (or another user changed it first)."""

    http_status = 409


class DuplicateDevice(InvalidState):
    """A camera whose serial (compared normalised) is already registered."""


class UnsafeOutput(GatekeeperError):
    """A rendition failed verification and must not be published."""

    http_status = 500
    exit_code = 2


class NotInitialised(GatekeeperError):
    """The instance home has no database at Alembic head."""

    exit_code = 3


class DeliveryFailed(GatekeeperError):
    """The mail server did not take the messages: nothing was sent and nothing was kept."""

    http_status = 502
    exit_code = 4


class StoreUnavailable(GatekeeperError):
    """An object store (an S3 bucket) that is missing and could not be created or reached."""

    http_status = 503
    exit_code = 3


class NotConfigured(GatekeeperError):
    """A setting this step needs is missing or unusable; the message names it."""
