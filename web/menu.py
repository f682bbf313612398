"""The staff menu: pages in a few named groups, each page once, only those the user's roles
open, so a DPO who also uploads and reviews finds every page in one step (not 17 links in a
row)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from gatekeeper.domain.vocabulary import Role
from gatekeeper.services.accounts.users import Actor

ANY = "any"  # every signed-in role


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    name: str
    links: tuple[Link, ...]


MENU = (
    Group("Photos", (
        Link("/upload", "Upload", ("office", "dpo")),
        Link("/uploads", "My uploads", ("office", "dpo")),
        Link("/review", "Review queue", ("editor", "dpo")),
        Link("/review?status=held", "Held photos", ("dpo",)),
        Link("/live", "Live now", ("editor", "dpo")),
        Link("/events", "Events", ("office", "editor", "dpo")),
    )),
    Group("People", (
        Link("/people", "People and consent", ("dpo",)),
        Link("/parents", "Parents", ("dpo",)),
        Link("/templates", "Templates to refresh", ("dpo",)),
    )),
    Group("Oversight", (
        Link("/reports", "Reports", (ANY,)),
        Link("/certificates", "Certificates", ("dpo", "governor")),
        Link("/audit", "Audit log", ("dpo",)),
        Link("/dpo/records", "Records", ("dpo",)),
    )),
    Group("Set-up", (
        Link("/devices", "Cameras", ("dpo",)),
        Link("/users", "Users", ("dpo",)),
        Link("/options", "Options", ("dpo",)),
    )),
    Group("Me", (
        Link("/account", "My account", (ANY,)),
        Link("/help", "Help", (ANY,)),
    )),
)


@dataclass(frozen=True)
class ShownLink:
    href: str
    text: str
    current: bool


def menu_for(user: Actor, request: Request | None = None) -> list[tuple[str, list[ShownLink]]]:
    """The groups with the links `user` may open (empty groups left out); the page being shown
    is marked current."""
    here = ""
    if request is not None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    held_here = here.startswith("/review?status=held")
    out = []
    for group in MENU:
        links = [ShownLink(link.href, link.text, _is_current(link.href, here, held_here))
                 for link in group.links
                 if ANY in link.roles or user.has(*(Role(r) for r in link.roles))]
        if links:
            out.append((group.name, links))
    return out


def _is_current(href: str, here: str, held_here: bool) -> bool:
    if href == "/review?status=held":
        return held_here
    if href == "/review":
        return here.split("?", 1)[0] == "/review" and not held_here
    return here.split("?", 1)[0] == href
