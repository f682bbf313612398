"""Photos without an orientation tag: a quick look at small turned copies decides which of the
90/270 degree turns get a full search (saves two full passes on the usual upright photo)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gatekeeper.adapters.detector import CenterFace
from gatekeeper.adapters.engine.options import EngineOptions
from gatekeeper.adapters.engine.turns import rotate, upright


def sideways_turns(detector: CenterFace, o: EngineOptions, rgb: Image.Image,
                   probe_side: int = 800) -> list[int]:
    """The 90/270 degree turns worth a full search: those in which a quick look at a small
    copy finds an upright face."""
    scale = min(1.0, probe_side / max(rgb.size))
    probe = np.asarray(rgb.resize((max(1, round(rgb.width * scale)),
                                   max(1, round(rgb.height * scale))), Image.Resampling.BOX))
    sure = max(0.5, o.detect_threshold)
    return [r for r in (90, 270)
            if any(upright(d) for d in detector.detect(rotate(probe, r), sure))]
