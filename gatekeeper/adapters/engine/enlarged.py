"""Windows cut from the full-resolution photo and enlarged, answered many per network call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from PIL import Image

T = TypeVar("T")
Window = tuple[int, int, int, int]  # x0, y0, x1, y1 in full-resolution upright pixels
Box = tuple[float, float, float, float]  # x0, y0, x1, y1, the same pixels


def per_window(full: Image.Image, wins: list[Window], zoom: float, rotation: int, tile: int,
               batched: Callable[[list[np.ndarray]], list[T]],
               whole: Callable[[np.ndarray], T]) -> list[tuple[Window, np.ndarray, T]]:
    """(window, enlarged crop, answer) for each window: `batched` answers the crops that fit
    a tile, many per network call; `whole` the rare larger one, which the detector tiles."""
    crops = [enlarged(full, win, zoom, rotation) for win in wins]
    small = [i for i, c in enumerate(crops) if max(c.shape[:2]) <= tile]
    answers = dict(zip(small, batched([crops[i] for i in small]), strict=True))
    return [(win, crop, answers[i] if i in answers else whole(crop))
            for i, (win, crop) in enumerate(zip(wins, crops, strict=True))]


def enlarged(full: Image.Image, win: Window, zoom: float, rotation: int) -> np.ndarray:
    """The window of the upright image, enlarged by `zoom`, turned counter-clockwise."""
    x0, y0, x1, y1 = win
    size = (max(1, round((x1 - x0) * zoom)), max(1, round((y1 - y0) * zoom)))
    crop = np.asarray(full.resize(size, Image.Resampling.BICUBIC, box=(x0, y0, x1, y1)))
    return np.ascontiguousarray(np.rot90(crop, k=rotation // 90))
