"""A second, enlarged look where small faces may be.

CenterFace works at stride 4 and is only sure of faces of about 24 px or more; a face that will
be 10 px in a published file can be 10 px for it. Running the whole photo enlarged 3x costs 9x
the pixels. So the normal pass runs at a scale where such a face is about 13 px and leaves
hints (heat-map peaks too weak to be a face, away from the faces found), and only the
neighbourhood of those hints is cut from the full-resolution photo, enlarged so the smallest
face that must be found becomes `fine_face_px`, and searched again, many windows per network
call. Where hints crowd, neighbouring windows join along grid rows.

Fail closed: in an enlarged window a weaker score is accepted than in the normal pass, since
the window was chosen because something face-like was there, and a false box only costs a
covered patch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from gatekeeper.adapters.detector import TILE, CenterFace, Detection
from gatekeeper.adapters.engine.enlarged import Box, Window, per_window
from gatekeeper.adapters.engine.sift import sifted


def windows(points: list[tuple[float, float]] | np.ndarray, w: int, h: int, cell: float,
            margin: float, max_side: float = float("inf")) -> list[tuple[int, int, int, int]]:
    """Group points on a grid of `cell` px; each run of occupied cells along a grid row becomes
    one window (x0, y0, x1, y1), grown by `margin` px and clipped to the image. Runs, not
    blobs: the bounding box of a ragged blob of cells is mostly empty, and costs as much.
    A run joins the window of the row above when their joint bounding box is no larger than
    the two apart (and no side exceeds `max_side`): rows of a crowd then share the 2 x margin
    they would each have searched again."""
    if len(points) == 0:
        return []
    gw, gh = int(w // cell) + 1, int(h // cell) + 1
    occupied = np.zeros((gh, gw + 1), dtype=bool)  # a spare empty column ends every run
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    occupied[np.clip(xy[:, 1] // cell, 0, gh - 1).astype(np.intp),
             np.clip(xy[:, 0] // cell, 0, gw - 1).astype(np.intp)] = True
    out: list[list[int]] = []
    above: list[int] = []  # windows that reach down to the previous row
    for gy in range(gh):
        row = occupied[gy]
        starts = np.nonzero(row[1:] & ~row[:-1])[0] + 1
        starts = np.concatenate([[0], starts]) if row[0] else starts
        ends = np.nonzero(row[:-1] & ~row[1:])[0] + 1
        here: list[int] = []
        for gx0, gx1 in zip(starts, ends, strict=True):
            win = [max(0, int(gx0 * cell - margin)), max(0, int(gy * cell - margin)),
                   min(w, int(gx1 * cell + margin)), min(h, int((gy + 1) * cell + margin))]
            joined = next((i for i in above if _joins(out[i], win, max_side)), None)
            if joined is None:
                out.append(win)
                here.append(len(out) - 1)
            else:
                a = out[joined]
                out[joined] = [min(a[0], win[0]), a[1], max(a[2], win[2]), win[3]]
                above.remove(joined)
                here.append(joined)
        above = here
    return [(a[0], a[1], a[2], a[3]) for a in out]


def _joins(a: list[int], b: list[int], max_side: float) -> bool:
    """Whether window `b` (the row below) may join `a`: no more pixels, no side too long."""
    x0, y0, x1, y1 = min(a[0], b[0]), a[1], max(a[2], b[2]), b[3]
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return (x1 - x0) * (y1 - y0) <= area and max(x1 - x0, y1 - y0) <= max_side


def second_look(detector: CenterFace, full: Image.Image, hints: Sequence[tuple[float, ...]],
                sure: Sequence[tuple[float, ...]], smallest: float, zoom: float,
                threshold: float, rotation: int = 0, tile: int = TILE,
                sift: tuple[float, float] | None = None,
                tally: list[int] | None = None) -> list[tuple[Box, Detection]]:
    """Look again, enlarged by `zoom`, around the hints (x, y, predicted size, in full-resolution
    upright pixels) that do not lie on a face already found (`sure` boxes x0, y0, x1, y1): a
    found face's flanks are weak peaks. The size a weak peak predicts is no guide: kept all.

    With `sift` (ratio, floor), every window is first looked at enlarged only ratio * zoom, and
    only the windows where that look scores something at least `floor` are looked at again at
    `zoom`; `tally` (windows sifted, windows kept) adds up how many it kept."""
    points = np.array([(x, y) for x, y, _ in hints], dtype=np.float32).reshape(-1, 2)
    if sure and len(points):
        b = np.array(sure, dtype=np.float32)
        dw, dh = (b[:, 2] - b[:, 0]) / 4, (b[:, 3] - b[:, 1]) / 4
        on_face = np.zeros(len(points), dtype=bool)
        for start in range(0, len(points), 4096):  # bounded memory in dense crowds
            x, y = points[start : start + 4096, :1], points[start : start + 4096, 1:]
            on_face[start : start + 4096] = ((x >= b[:, 0] - dw) & (x <= b[:, 2] + dw)
                                             & (y >= b[:, 1] - dh) & (y <= b[:, 3] + dh)).any(1)
        points = points[~on_face]
    wins = windows(points, full.width, full.height, cell=2 * smallest,
                   margin=smallest, max_side=tile / zoom)
    out: list[tuple[Box, Detection]] = []
    if sift is not None and wins:
        ratio, floor = sift
        worth = sifted(detector, full, wins, zoom * ratio, floor, rotation, tile)
        if tally is not None:
            tally[0] += len(wins)
            tally[1] += sum(worth)
        wins = [win for win, keep in zip(wins, worth, strict=True) if keep]
    for hits in _look(detector, full, wins, zoom, threshold, rotation, tile):
        out += hits
    return out


def _look(detector: CenterFace, full: Image.Image, wins: list[Window], zoom: float,
          threshold: float, rotation: int, tile: int) -> list[list[tuple[Box, Detection]]]:
    """The boxes found in each window enlarged by `zoom` (many windows per network call)."""
    return [[(_to_full(d, win, crop, rotation), d) for d in dets]
            for win, crop, dets in per_window(
                full, wins, zoom, rotation, tile,
                lambda crops: detector.detect_many(crops, threshold),
                lambda crop: detector.detect(crop, threshold, exact=True))]


def _to_full(d: Detection, win: Window, crop: np.ndarray, rotation: int) -> Box:
    """A box found in an enlarged, turned window, in upright full-resolution pixels."""
    x0, y0, x1, y1 = win
    h, w = crop.shape[:2]
    if rotation in (90, 270):
        h, w = w, h
    bx0, by0, bx1, by1 = _upright_box(d, rotation, w, h)
    kx, ky = (x1 - x0) / w, (y1 - y0) / h
    return (x0 + bx0 * kx, y0 + by0 * ky, x0 + bx1 * kx, y0 + by1 * ky)


def _upright_box(d: Detection, rotation: int, w: int, h: int) -> tuple[float, ...]:
    """A box found in an image turned counter-clockwise by `rotation`, in the upright w x h one."""
    if rotation == 90:
        return w - d.y1, d.x0, w - d.y0, d.x1
    if rotation == 270:
        return d.y0, h - d.x1, d.y1, h - d.x0
    return d.x0, d.y0, d.x1, d.y1
