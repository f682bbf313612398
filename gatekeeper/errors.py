"""Domain exceptions: raised below the adapters, mapped to exit codes / HTTP status in one place."""


class GatekeeperError(Exception):
    """Base of every refusal that has a one-line reason for the user."""


class NotFound(GatekeeperError):
    """A record the caller named does not exist."""


class PermissionDenied(GatekeeperError):
    """The acting user may not do this (role or separation of duties)."""


class InvalidImage(GatekeeperError):
    """Bytes that are not an acceptable image: unknown format, truncated, corrupt or a bomb."""


class EnrolmentRefused(GatekeeperError):
    """A reference photo or person that cannot give a face template."""


class InvalidState(GatekeeperError):
    """The record is not in a state that allows this step."""


class UnsafeOutput(GatekeeperError):
    """A rendition failed verification and must not be published."""


class ScanFailed(GatekeeperError):
    """The face engine could not process a photo; the photo is blocked (fail closed)."""
