"""Where the links in invitations point (GATEKEEPER_PUBLIC_URL): none are sent while it is
unset, and the DPO is warned when it is an address only the server itself can open."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from gatekeeper.config import Settings
from gatekeeper.errors import NotConfigured

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


@dataclass(frozen=True)
class LinkBase:
    """Where the links in invitations point (GATEKEEPER_PUBLIC_URL), as the DPO sees it."""

    url: str | None

    @property
    def local(self) -> bool:
        """A loopback address: links would open only on the server itself, not parents' phones."""
        if not self.url:
            return False
        host = (urlsplit(self.url).hostname or "").lower()
        return host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


def link_base(settings: Settings) -> LinkBase:
    """The base of invitation links, or none while GATEKEEPER_PUBLIC_URL is unset."""
    return LinkBase(settings.public_url.rstrip("/") if settings.public_url else None)


def required_base(settings: Settings) -> str:
    """The links' base, or NotConfigured: a link that parents cannot open is worse than none
    (it is single-use, so the school would have to send every family a second one)."""
    base = link_base(settings).url
    if not base:
        raise NotConfigured(
            "set GATEKEEPER_PUBLIC_URL to the address parents open Gatekeeper at (for example "
            "https://consent.yourschool.example) before sending invitations; nothing was sent")
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
        raise NotConfigured(f"GATEKEEPER_PUBLIC_URL must start with https:// (got {base!r}); "
                            "nothing was sent")
    return base

