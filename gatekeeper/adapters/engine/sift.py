"""Sifting the second look's windows: each is first looked at enlarged only so that the smallest
face is sift_face_px, and looked at fully enlarged only where that cheap look scores anything
over the floor (70 % of the windows hold only texture; see EngineOptions.sift_face_px)."""

from __future__ import annotations

from PIL import Image

from gatekeeper.adapters.detector import CenterFace
from gatekeeper.adapters.engine.enlarged import Window, per_window


def sifted(detector: CenterFace, full: Image.Image, wins: list[Window], zoom: float,
           floor: float, rotation: int, tile: int) -> list[bool]:
    """Whether each window, enlarged by `zoom`, scores anything over `floor`: the windows
    `second_look._look` would find something in, without decoding the boxes."""
    return [worth for _, _, worth in per_window(
        full, wins, zoom, rotation, tile,
        lambda crops: detector.scores_over(crops, floor),
        lambda crop: bool(detector.detect(crop, floor, exact=True)))]
