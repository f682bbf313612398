"""The words Gatekeeper's layers share, as enums: a typo becomes an error, not a silent miss."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """Where a photo may be published (the school policy's three uses)."""

    DISPLAY = "display"  # school displays, newsletters, learning journeys
    PRINT = "print"  # leaflets, posters, documents, press
    ONLINE = "online"  # school website, social media


class ConsentKind(StrEnum):
    """What a consent record is about: one per channel, plus keeping images after leaving."""

    DISPLAY = "display"
    PRINT = "print"
    ONLINE = "online"
    RETAIN = "retain"


class ConsentUse(StrEnum):
    """Everything a parent or pupil answers for: the consent kinds, plus face recognition
    (biometric processing, Protection of Freedoms Act 2012 ss26-28), which is not a channel."""

    DISPLAY = "display"
    PRINT = "print"
    ONLINE = "online"
    RETAIN = "retain"
    BIOMETRIC = "biometric"


class PersonKind(StrEnum):
    """Who a person on the school's records is."""

    PUPIL = "pupil"
    STAFF = "staff"


class Role(StrEnum):
    OFFICE = "office"
    EDITOR = "editor"
    DPO = "dpo"
    GOVERNOR = "governor"


class CoverMode(StrEnum):
    """How a face is covered; there is deliberately no blur (blur can be reversed)."""

    SOLID = "solid"
    PIXELATE = "pixelate"


class RotationMode(StrEnum):
    """When detection also searches the photo turned 90 and 270 degrees."""

    UNTAGGED = "untagged"  # only photos without an EXIF orientation tag
    ALWAYS = "always"
    NEVER = "never"


class StoreBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class ImageFormat(StrEnum):
    JPEG = "JPEG"
    PNG = "PNG"


class NameRule(StrEnum):
    """Which names a caption or file name on a channel must not carry."""

    NO_FULL_NAME = "no_full_name"  # display, print: no given + family name together
    NO_FAMILY_NAME = "no_family_name"  # online: no family name at all, ever


@dataclass(frozen=True)
class ChannelRule:
    """How one channel is published: the long side, the file format and the names rule."""

    channel: Channel
    max_side: int
    image_format: ImageFormat
    names: NameRule


def parse_channel(text: str) -> Channel:
    """A Channel from user input, or ValueError naming the choices."""
    try:
        return Channel(text.strip().lower())
    except ValueError:
        raise ValueError(f"unknown channel {text!r} (one of {', '.join(Channel)})") from None


def parse_roles(text: str) -> frozenset[Role]:
    """'office, Editor' -> {OFFICE, EDITOR}; ValueError for an empty or unknown role."""
    names = {r.strip().lower() for r in text.split(",") if r.strip()}
    bad = sorted(n for n in names if n not in {r.value for r in Role})
    if not names or bad:
        raise ValueError(f"roles must be some of {', '.join(Role)} (got {text!r})")
    return frozenset(Role(n) for n in names)
