"""One detection pass over a scaled copy of the photo, in one turn: the working pass (with the
enlarged second look around the weak peaks it leaves, and gated by YuNet) or a smaller one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from gatekeeper.adapters.detector import CenterFace
from gatekeeper.adapters.engine.found import Candidate
from gatekeeper.adapters.engine.options import EngineOptions
from gatekeeper.adapters.engine.pyramid import scales, smallest_face
from gatekeeper.adapters.engine.second_look import second_look
from gatekeeper.adapters.engine.turns import map_box, rotate, to_upright
from gatekeeper.adapters.engine.yunet_gate import accepted, gated_windows, set_aside_for_relook
from gatekeeper.adapters.yunet import YuNet


@dataclass
class Search:
    """The passes of one scan over one photo (`rgb`, full resolution, upright), gathering the
    candidate boxes in upright full-resolution pixels."""

    detector: CenterFace
    yunet: YuNet | None
    o: EngineOptions
    rgb: Image.Image
    candidates: list[Candidate] = field(default_factory=list)
    crowded: bool = False  # the gate was asked, and its windows would cover most of the copy
    sift: bool = True  # the enlarged look's windows are sifted first (EngineOptions.sift_face_px)
    sifted: list[int] = field(default_factory=lambda: [0, 0])  # windows sifted, windows kept

    def run(self, small: np.ndarray, scale: float, rotation: int, second: bool,
            relook: list[tuple[float, ...]] | None = None) -> None:
        """One detection pass over `small` (the photo at `scale`) turned by `rotation`; with
        `second`, an enlarged second look around the weak peaks it leaves. With `relook` (the
        YuNet-gated search): the working pass (`second`) looks where YuNet saw a small face and
        around the boxes in `relook`; the pass just below it, run first, puts them there (see
        yunet_gate.set_aside_for_relook)."""
        o, candidates, rgb = self.o, self.candidates, self.rgb
        sh, sw = small.shape[:2]
        w, h = rgb.size
        smallest = smallest_face(o, w, h)
        zoom = o.fine_face_px / smallest
        hints: list[tuple[float, float, float, float]] | None = (
            [] if second and rotation == 0 and zoom > 1.25 * scale else None)
        mark = len(candidates)
        pyramid = scales(o, w, h)
        # A smaller pass follows within PYRAMID_STEP: larger faces are found there whole.
        follows = scale != pyramid[-1]
        collects = relook is not None and not second  # the pass below the gated working one
        wins = (gated_windows(self.yunet, o, small, relook)
                if relook is not None and second and self.yunet is not None else None)
        self.crowded |= wins is not None and sum(
            (x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in wins) >= o.gate_max_share * sw * sh
        if wins is not None and not self.crowded:
            dets = self.detector.detect_windows(
                small, wins, o.upright_threshold, hints if hints is not None else [],
                o.hint_threshold, inner=o.gate_margin / 2)
        else:  # not gated, or the windows would cost about as much as the whole photo
            dets = self.detector.detect(
                rotate(small, rotation),
                min(o.gate_weak_floor, o.upright_threshold) if collects else o.upright_threshold,
                overlap=o.tile_overlap if follows else o.last_overlap, hints=hints,
                hint_threshold=o.hint_threshold, sure=o.detect_threshold)
            if collects and relook is not None:
                dets = set_aside_for_relook(o, dets, scale / pyramid[0], relook)
        for det in dets:
            if not accepted(o, det):
                if hints is not None:  # not a face as it stands: worth a closer look
                    hints.append(((det.x0 + det.x1) / 2, (det.y0 + det.y1) / 2,
                                  max(det.x1 - det.x0, det.y1 - det.y0), det.score))
                continue
            box = map_box(det.x0, det.y0, det.x1, det.y1, to_upright, rotation, sw, sh)
            marks = tuple(tuple(v / scale for v in to_upright(x, y, rotation, sw, sh))
                          for x, y in det.landmarks)
            candidates.append((tuple(v / scale for v in box), det, rotation, marks))
        if hints:
            points = [(*(v / scale for v in to_upright(x, y, rotation, sw, sh)), size / scale)
                      for x, y, size, _ in hints]
            sure = [c[0] for c in candidates[mark:]]
            candidates += [(box, det, rotation, ()) for box, det in second_look(
                self.detector, rgb, points, sure, smallest, zoom, o.fine_threshold, rotation,
                sift=((o.sift_face_px / o.fine_face_px, o.sift_floor)
                      if o.sift_face_px and self.sift else None), tally=self.sifted)]
