"""YuNet (OpenCV Zoo, MIT; weights/yunet_2023mar.onnx, vendored by scripts/vendor_yunet.py), run
by onnxruntime: a face detector about seven times cheaper per pixel than CenterFace (0.027 against
0.18 s per megapixel on one core here), with other failure modes.

The face engine uses it as a map of where faces may be: every cell it scores above a low floor
marks a place for CenterFace to look (faces.py). Its outputs are decoded as OpenCV's
FaceDetectorYN does: per stride (8, 16, 32) a score sqrt(cls * obj), a box from the cell's
offset and log-size. The network takes BGR pixels, 0-255, sides multiples of 32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gatekeeper.adapters.detector import TILE, spread
from gatekeeper.adapters.onnx_session import cpu_session

WEIGHTS = Path(__file__).resolve().parent / "weights" / "yunet_2023mar.onnx"
STRIDES = (8, 16, 32)


class YuNet:
    """Loads the model once; `candidates(rgb, floor, max_size)` lists weak and strong cells."""

    def __init__(self, threads: int = 1) -> None:
        self.session = cpu_session(WEIGHTS, threads)
        self._outputs = [o.name for o in self.session.get_outputs()]

    def candidates(self, rgb: np.ndarray, floor: float, max_size: float, tile: int = TILE,
                   overlap: int = 128) -> np.ndarray:
        """(x, y, size, score) rows, in pixels of the HxWx3 RGB array, of every cell scoring at
        least `floor` whose box is at most `max_size` on its longer side. Large arrays run in
        tiles sharing `overlap` px (a face up to that size lies whole in some tile); a face seen
        by two tiles is listed twice."""
        h, w = rgb.shape[:2]
        if h * w <= 1.5 * tile * tile and max(h, w) <= 2 * tile:
            return self._once(rgb, floor, max_size)
        rows, th = spread(h, tile, overlap)
        cols, tw = spread(w, tile, overlap)
        parts = []
        for y in rows:
            for x in cols:
                found = self._once(rgb[y : y + th, x : x + tw], floor, max_size)
                found[:, 0] += x
                found[:, 1] += y
                parts.append(found)
        return np.concatenate(parts)

    def _once(self, rgb: np.ndarray, floor: float, max_size: float) -> np.ndarray:
        h, w = rgb.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        blob[0, :, :h, :w] = rgb[:, :, ::-1].transpose(2, 0, 1)  # the network wants BGR
        out = dict(zip(self._outputs, self.session.run(self._outputs, {"input": blob}),
                       strict=True))
        parts = [np.zeros((0, 4), dtype=np.float32)]
        for stride in STRIDES:
            score = np.sqrt(np.clip(out[f"cls_{stride}"][0, :, 0], 0, 1)
                            * np.clip(out[f"obj_{stride}"][0, :, 0], 0, 1))
            cells = np.nonzero(score >= floor)[0]
            if not len(cells):
                continue
            box = out[f"bbox_{stride}"][0, cells]
            row, col = np.divmod(cells, pw // stride)
            size = np.exp(box[:, 2:4]).max(axis=1) * stride
            x, y = (col + box[:, 0]) * stride, (row + box[:, 1]) * stride
            keep = (size <= max_size) & (x < w) & (y < h)
            parts.append(np.stack([x, y, size, score[cells]], axis=1)[keep].astype(np.float32))
        return np.concatenate(parts)
