"""Where the working pass looks: YuNet (~7x cheaper a pixel than CenterFace) marks the cells
where something face-like of at most gate_small_face px stands, and the pass just below the
working one sets aside the faces worth a second, larger look (see EngineOptions.gate_floor)."""

from __future__ import annotations

import numpy as np

from gatekeeper.adapters.detector import TILE, Detection, spread
from gatekeeper.adapters.engine.options import EngineOptions
from gatekeeper.adapters.engine.second_look import windows
from gatekeeper.adapters.engine.turns import upright
from gatekeeper.adapters.yunet import YuNet


def accepted(o: EngineOptions, det: Detection) -> bool:
    """A pass's box taken as a face: a sure score, or a weaker one with upright landmarks."""
    return det.score >= o.detect_threshold or (det.score >= o.upright_threshold and upright(det))


def set_aside_for_relook(o: EngineOptions, dets: list[Detection], ratio: float,
                         relook: list[tuple[float, ...]]) -> list[Detection]:
    """The detections this pass accepts. Those of gate_weak_px or more at the working scale
    (this pass's scale / `ratio`) that it is unsure of, and those it accepts up to
    gate_relook_px, go to `relook` as (x0, y0, x1, y1, ratio), in this pass's pixels: the
    working scale sees them better (more faces found; and the boxes and landmarks that
    identification starts from, as before the gate)."""
    out = []
    for det in dets:
        size = max(det.x1 - det.x0, det.y1 - det.y0) / ratio
        sure = accepted(o, det)
        if sure:
            out.append(det)
        if size >= o.gate_weak_px and (not sure or size <= o.gate_relook_px):
            relook.append((det.x0, det.y0, det.x1, det.y1, ratio))
    return out


def gated_windows(yunet: YuNet, o: EngineOptions, small: np.ndarray,
                  relook: list[tuple[float, ...]]) -> list[tuple[int, int, int, int]]:
    """The windows of the working copy worth the working pass, each at most a tile, sides
    made multiples of 32 where the photo allows (the network pads to them anyway): along
    grid rows, gate_margin px around every cell where YuNet scores at least
    gate_floor with a box of at most gate_small_face px; and twice the size of each box in
    `relook` (from the smaller pass, see set_aside_for_relook) around it.

    Larger faces are the smaller pass's: it sees them at 19 px or more, and the working
    pass looks again at those it is unsure of or will encode."""
    sh, sw = small.shape[:2]
    cells = yunet.candidates(small, o.gate_floor, o.gate_small_face)
    found = windows(cells[:, :2], sw, sh, cell=o.gate_cell, margin=o.gate_margin,
                    max_side=TILE)
    for x0, y0, x1, y1, ratio in relook:  # in the smaller pass's pixels, `ratio` smaller
        cx, cy = (x0 + x1) / 2 / ratio, (y0 + y1) / 2 / ratio
        side = max(x1 - x0, y1 - y0) / ratio
        found.append((max(0, int(cx - side)), max(0, int(cy - side)),
                      min(sw, int(cx + side) + 1), min(sh, int(cy + side) + 1)))
    out = []
    for x0, y0, x1, y1 in found:
        xs, tw = spread(x1 - x0, TILE, o.tile_overlap)
        ys, th = spread(y1 - y0, TILE, o.tile_overlap)
        for top in ys:
            for left in xs:
                wx0, wx1 = span32(x0 + left, tw, sw)
                wy0, wy1 = span32(y0 + top, th, sh)
                out.append((wx0, wy0, wx1, wy1))
    return out


def span32(start: int, length: int, limit: int) -> tuple[int, int]:
    """[start, start + length) widened to a multiple of 32 within [0, limit), where it fits."""
    length = min(limit, -(-length // 32) * 32)
    start = max(0, min(start, limit - length))
    return start, start + length
