"""The face engine: orient -> detect (CenterFace, where YuNet marks something face-like at the
working scale, plus 90/270 turns, plus an enlarged second look where small faces may be: see
smallfaces.py) -> quality gates -> encode (dlib's 128-d vector and
SFace's 128-d vector on the landmark-aligned crop, see adapters/sface.py).

Only the two dlib models used are loaded (5-point shapes, the encoder), from face_recognition_models;
face_recognition itself is not imported: at import it loads every dlib model (1-2 s per worker,
the CNN detector and 68-point model included) and switches Pillow's LOAD_TRUNCATED_IMAGES on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
from PIL import Image, ImageFile, ImageOps

from gatekeeper.adapters.detector import TILE, CenterFace, Detection, nms, spread
from gatekeeper.adapters.sface import SFaceEncoder, aligned_crop
from gatekeeper.adapters.smallfaces import second_look, windows
from gatekeeper.adapters.yunet import YuNet
from gatekeeper.errors import EnrolmentRefused

PYRAMID_STEP = 2.5  # between detection passes; CenterFace's sure range is wider than this


class FaceQuality(StrEnum):
    """Why a face can or cannot be identified."""

    OK = "ok"
    TOO_SMALL = "too_small"
    TOO_BLURRED = "too_blurred"
    TOO_TURNED = "too_turned"


@dataclass(frozen=True)
class Box:
    """A face box in upright image pixels, in face_recognition's (top, right, bottom, left) order."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass
class FoundFace:
    box: Box
    score: float
    rotation: int  # 0, 90 or 270: the turn in which the face stood upright
    quality: FaceQuality
    encoding: np.ndarray | None = None  # dlib, 128 float64
    sface_encoding: np.ndarray | None = None  # SFace, 128 float32 of unit length
    # CenterFace's five landmarks in upright image pixels: subject's right eye, left eye, nose,
    # right and left mouth corners
    landmarks: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class EngineOptions:
    detect_threshold: float = 0.35
    # CenterFace in int8 for the smaller passes (detector.py): 7 % less detection time, the
    # same recall, but its landmarks align SFace's crops less well (fused recognition with one
    # reference photo 92.4 % instead of 94.4 %): off until landmarks come from the float network
    quantized_detector: bool = False
    # A weaker score is enough when the landmarks stand as in a face (eyes, nose, mouth from top
    # to bottom): masked, cut-off or turned faces often score 0.2-0.35.
    upright_threshold: float = 0.25
    detect_max_side: int = 2048  # the normal pass runs at least at this long side
    publish_max_side: int = 4096  # the largest published side (0: published at full size)
    min_published_face_px: int = 10  # every face this large once published must be found
    base_face_px: float = 13  # the normal pass runs at the scale that makes such a face this big
    fine_face_px: int = 24  # the second look enlarges so that such a face is this large
    # Score accepted in the enlarged look. A face of 10-12 px can score only 0.15-0.25 there,
    # depending on where the window cuts it (one 10 px face: 0.18 in its window, 0.65 in one
    # shifted by 5 px). Measured on the benchmark: 0.25 missed two such faces (recall 0.9984),
    # 0.2 one, 0.15 none; false boxes 0.94 -> 1.35 -> 2.4 a photo, covering 0.57 -> 0.70 ->
    # 0.91 % of it. A missed face is published; a false box covers a small patch.
    fine_threshold: float = 0.15
    # Sifting before the enlarged look (smallfaces.second_look): each window is first looked at
    # enlarged only so that the smallest face is sift_face_px (the working pass's size, but on a
    # sharper crop from the full-resolution photo), and enlarged to fine_face_px only where that
    # look scores sift_floor: 70 % of the windows hold only texture. Measured on the benchmark:
    # the second look's time 38.6 -> 28.0 s, the same faces found; floor 0.1 loses a 14 px face.
    sift_face_px: float = 13  # 0: no sifting
    sift_floor: float = 0.02
    hint_threshold: float = 0.01  # heat-map peaks above this are worth the second look
    # The working pass is gated by YuNet (adapters/yunet.py, ~7x cheaper a pixel than
    # CenterFace): it looks only in windows gate_margin px around the cells (gate_cell px grid)
    # where YuNet scores at least gate_floor with a box of at most gate_small_face px (at the
    # working scale), and again around the faces of gate_weak_px or more (at the working scale)
    # that the pass just below found: those it is unsure of (gate_weak_floor up to the
    # acceptance), which it would often be sure of larger, and those it accepts up to
    # gate_relook_px, whose boxes and landmarks (identification starts from them) are better
    # at the larger scale. Only where a smaller pass follows, which finds the larger faces.
    # Measured (docs/developers/engine.md, "Choosing the scanning defaults"): of 1,984 small faces one 10.8 px
    # face had a mark as weak as 0.0126 (0.03 lost it); the working pass fed 69 instead of
    # 158 Mpx on the benchmark, the same faces found. 0: the whole photo is searched.
    gate_floor: float = 0.01
    gate_margin: int = 48  # a face of gate_small_face px stays whole with its cut-edge margin
    gate_cell: int = 32
    gate_small_face: float = 48
    gate_weak_floor: float = 0.05
    gate_weak_px: float = 36
    gate_relook_px: float = 200
    # Where the windows add up to this share of the working copy (a crowd, marked everywhere),
    # the whole copy is searched: tiles share less than neighbouring windows do.
    gate_max_share: float = 0.6
    small_box_growth: float = 1.3  # boxes of faces under min_face_px, grown to cover surely
    max_enlarge: float = 2.0  # the normal pass never enlarges a photo more than this
    min_face_px: int = 40
    # Pixels shared by neighbouring tiles of a pass. Where a smaller pass follows, tiles need
    # only hold whole the faces that pass would see under ~24 px; a face near a tile's inner
    # edge is left to its neighbour, and must lie far enough inside it to score there. Real
    # faces of 16-130 px (at the pass's scale) swept across the tile edges of a 3600x2400 photo:
    # none missed at 128 (1,500 faces) or 96 (1,000), one 26 px face of 152 at 64. 96 feeds the
    # network 4 % fewer pixels than 128 on the benchmark photos.
    tile_overlap: int = 96
    last_overlap: int = 192  # no smaller pass follows: tiles hold faces up to ~125 px whole
    min_sharpness: float = 7.0
    # Reference photos encoded as they are and mirrored, each model's two vectors averaged
    # (flip_averaged); an extra detection pass per reference photo. Measured on the children's
    # proxy (bench/children_proxy.py), hard condition, faces >= 60 px recognised: tuning part
    # 47 -> 48 of 49, held-back part 37 -> 38 of 39, no wrong person and no un-enrolled person
    # shown on either (soft condition: every face recognised either way). Faces editors confirm
    # (encode_at) are not mirrored.
    flip_references: bool = True
    max_yaw: float = 0.32  # nose offset from the eye midpoint, as a fraction of eye distance
    # Photos without an orientation tag: the quick look at the 90/270 degree turns runs on a copy
    # of this long side, or of probe_side_upright once the upright search found a face of at
    # least sure_upright_score standing upright (then only people lying near the camera remain).
    probe_side: int = 800
    probe_side_upright: int = 400
    sure_upright_score: float = 0.5


# A detection in full-resolution upright pixels (x0, y0, x1, y1), the raw detection, the turn it
# was found in, and its five landmarks in upright pixels (none from the second look)
Candidate = tuple[tuple[float, ...], Detection, int, tuple[tuple[float, ...], ...]]


def _rotate(arr: np.ndarray, rotation: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(arr, k=rotation // 90))


def _to_upright(x: float, y: float, rotation: int, w: int, h: int) -> tuple[float, float]:
    """Map a point of the image turned by `rotation` (counter-clockwise) back to upright (w x h)."""
    if rotation == 90:
        return w - y, x
    if rotation == 270:
        return y, h - x
    return x, y


def _from_upright(x: float, y: float, rotation: int, w: int, h: int) -> tuple[float, float]:
    if rotation == 90:
        return y, w - x
    if rotation == 270:
        return h - y, x
    return x, y


def _map_box(x0, y0, x1, y1, fn, rotation, w, h) -> tuple[float, float, float, float]:
    pts = [fn(x, y, rotation, w, h) for x, y in ((x0, y0), (x1, y1))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def yaw_of(det: Detection) -> float:
    """How far the nose sits from the eyes' midpoint, relative to eye distance (0 = frontal)."""
    (rx, _), (lx, _), (nx, _) = det.landmarks[0], det.landmarks[1], det.landmarks[2]
    eye_distance = abs(lx - rx)
    if eye_distance < 1e-6:
        return 1.0
    return abs(nx - (rx + lx) / 2) / eye_distance


def _upright(det: Detection) -> bool:
    """Eyes above the nose, nose above the mouth corners: the face stands upright in this turn."""
    (_, ry), (_, ly), (_, ny), (_, my1), (_, my2) = det.landmarks
    return max(ry, ly) < ny < min(my1, my2)


def sharpness(gray_crop: np.ndarray) -> float:
    """Standard deviation of the Laplacian of a face crop resampled to 64x64 (scale-free)."""
    img = Image.fromarray(gray_crop).resize((64, 64), Image.Resampling.BILINEAR)
    a = np.asarray(img, dtype=np.float32)
    lap = (-4 * a[1:-1, 1:-1] + a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:])
    return float(lap.std())


def dlib_rect_for(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """CenterFace boxes run from hairline to chin; dlib's models expect its tighter HOG-style box."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    side = 1.05 * w
    cx, cy = (x0 + x1) / 2, y0 + 0.535 * h
    return (int(round(cy - side / 2)), int(round(cx + side / 2)),
            int(round(cy + side / 2)), int(round(cx - side / 2)))


def _grown(box: Box, factor: float, w: int, h: int) -> Box:
    """A small face's box grown about its centre: at a few pixels CenterFace's box can fall
    short of the face, and a face that is only covered is better covered generously."""
    dx, dy = (factor - 1) * box.width / 2, (factor - 1) * box.height / 2
    return Box(max(0, int(box.top - dy)), min(w, int(round(box.right + dx))),
               min(h, int(round(box.bottom + dy))), max(0, int(box.left - dx)))


class FaceEngine:
    """Loads the detector and dlib models once per process; `find_faces` runs the whole pipeline."""

    def __init__(self, options: EngineOptions | None = None, threads: int = 1) -> None:
        import dlib  # deferred: loading the models is the expensive part, once per process

        with warnings.catch_warnings():  # face_recognition_models still imports pkg_resources
            warnings.simplefilter("ignore", UserWarning)
            import face_recognition_models as frm  # deferred: with dlib, above

        import cv2  # deferred: only processes that scan enlarge photos

        cv2.setNumThreads(threads)  # one core per worker, as the networks
        self._cv2 = cv2
        ImageFile.LOAD_TRUNCATED_IMAGES = False  # keep uploads strict, whoever imported what
        self.options = options or EngineOptions()
        self.detector = CenterFace(threads=threads, quantized=self.options.quantized_detector)
        self._dlib = dlib
        self._shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self._encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        self._sface = SFaceEncoder(threads=threads)
        self._yunet = YuNet(threads=threads) if self.options.gate_floor > 0 else None

    def find_faces(self, img: Image.Image, look_sideways: bool,
                   encode: bool = True) -> list[FoundFace]:
        """Every face in an upright RGB image; encodings only for faces that pass the gates, and
        none at all with `encode=False` (nobody can be identified: e.g. an empty gallery)."""
        # One copy of the pixels while detecting (a 24 MP photo is 72 MB a copy): the PIL image
        # the caller gave when it is RGB already; the array form only when a pass needs it.
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        w, h = rgb.size
        candidates: list[Candidate] = []
        o = self.options
        scales = self._scales(w, h)
        # A face lying sideways is searched for at the working size of the old engine (up to
        # detect_max_side, no second look): turns are a guess from a quick look, and the
        # enlarged search costs most.
        sideways = [s for s in scales if s <= min(1.0, o.detect_max_side / max(w, h))]
        sideways = sideways or [min(1.0, o.detect_max_side / max(w, h))]
        kept: dict[float, np.ndarray] = {}  # the copies at sideways scales (<= detect_max_side)
        # With the working pass gated by YuNet, the smaller passes run first: the faces the
        # pass just below the working one finds are where it looks again (see _search).
        gated = self._yunet is not None and o.gate_floor > 0 and len(scales) > 1
        relook: list[tuple[float, ...]] | None = [] if gated else None
        for scale in scales[1:] + scales[:1] if gated else scales:
            small = self._resized(rgb, scale)
            if scale in sideways:
                kept[scale] = small
            self._search(candidates, small, scale, 0, rgb, second=scale == scales[0],
                         relook=relook if scale in scales[:2] else None)
        if look_sideways:
            # The quick look decides which turns get a search. When the upright search already
            # found a sure upright face, the photo stands as it should and a turned face can
            # only be someone lying near the camera, a large face: a smaller quick look will do.
            stands = any(_upright(c[1]) and c[1].score >= o.sure_upright_score
                         for c in candidates)
            turns = self._sideways_turns(rgb, o.probe_side_upright if stands else o.probe_side)
            for scale in sideways if turns else []:
                small = kept[scale] if scale in kept else self._resized(rgb, scale)
                for rotation in turns:
                    self._search(candidates, small, scale, rotation, rgb, second=False)
        if not candidates:
            return []
        boxes = np.array([c[0] for c in candidates], dtype=np.float32)
        # Among overlapping boxes prefer the turn in which the landmarks stand upright.
        ranks = np.array([c[1].score * (1.0 if _upright(c[1]) else 0.5) for c in candidates])
        keep = nms(boxes, ranks, 0.3, inside_limit=0.7)
        gray = np.asarray(rgb.convert("L"))
        faces = [self._gate(candidates[i], gray, w, h) for i in keep]
        if encode:
            self._encode(np.asarray(rgb), faces, rgb)
        return faces

    def _resized(self, rgb: Image.Image, scale: float) -> np.ndarray:
        """The photo at `scale`: shrunk by averaging (Pillow's box filter), or enlarged by
        bilinear interpolation, where OpenCV gives Pillow's pixels (each within 1 level) in a
        tenth of the time (0.03 instead of 0.31 s for 12 MP enlarged 1.3x)."""
        if scale == 1.0:
            return np.asarray(rgb)
        size = (round(rgb.width * scale), round(rgb.height * scale))
        if scale < 1:
            return np.asarray(rgb.resize(size, Image.Resampling.BOX))
        return self._cv2.resize(np.asarray(rgb), size, interpolation=self._cv2.INTER_LINEAR)

    def _search(self, candidates: list[Candidate], small: np.ndarray, scale: float, rotation: int,
                rgb: Image.Image, second: bool,
                relook: list[tuple[float, ...]] | None = None) -> None:
        """One detection pass over `small` (the photo at `scale`) turned by `rotation`; with
        `second`, an enlarged second look around the weak peaks it leaves. With `relook` (the
        YuNet-gated search): the working pass (`second`) looks where YuNet saw a small face and
        around the boxes in `relook`; the pass just below it, run first, puts them there (see
        _set_aside_for_relook)."""
        o = self.options
        sh, sw = small.shape[:2]
        w, h = rgb.size
        smallest = self._smallest_face(w, h)
        zoom = o.fine_face_px / smallest
        hints: list[tuple[float, float, float, float]] | None = (
            [] if second and rotation == 0 and zoom > 1.25 * scale else None)
        mark = len(candidates)
        # A smaller pass follows within PYRAMID_STEP: larger faces are found there whole.
        follows = scale != self._scales(w, h)[-1]
        collects = relook is not None and not second  # the pass below the gated working one
        wins = self._gated_windows(small, relook) if relook is not None and second else None
        if wins is not None and sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in wins) < (
                o.gate_max_share * sw * sh):
            dets = self.detector.detect_windows(
                small, wins, o.upright_threshold, hints if hints is not None else [],
                o.hint_threshold, inner=o.gate_margin / 2)
        else:  # not gated, or the windows would cost about as much as the whole photo
            dets = self.detector.detect(
                _rotate(small, rotation),
                min(o.gate_weak_floor, o.upright_threshold) if collects else o.upright_threshold,
                overlap=o.tile_overlap if follows else o.last_overlap, hints=hints,
                hint_threshold=o.hint_threshold, sure=o.detect_threshold)
            if collects and relook is not None:
                dets = self._set_aside_for_relook(dets, scale / self._scales(w, h)[0], relook)
        for det in dets:
            if not self._accepted(det):
                if hints is not None:  # not a face as it stands: worth a closer look
                    hints.append(((det.x0 + det.x1) / 2, (det.y0 + det.y1) / 2,
                                  max(det.x1 - det.x0, det.y1 - det.y0), det.score))
                continue
            box = _map_box(det.x0, det.y0, det.x1, det.y1, _to_upright, rotation, sw, sh)
            marks = tuple(tuple(v / scale for v in _to_upright(x, y, rotation, sw, sh))
                          for x, y in det.landmarks)
            candidates.append((tuple(v / scale for v in box), det, rotation, marks))
        if hints:
            points = [(*(v / scale for v in _to_upright(x, y, rotation, sw, sh)), size / scale)
                      for x, y, size, _ in hints]
            sure = [c[0] for c in candidates[mark:]]
            candidates += [(box, det, rotation, ()) for box, det in second_look(
                self.detector, rgb, points, sure, smallest, zoom, o.fine_threshold, rotation,
                sift=(o.sift_face_px / o.fine_face_px, o.sift_floor) if o.sift_face_px else None)]

    def _accepted(self, det: Detection) -> bool:
        """A pass's box taken as a face: a sure score, or a weaker one with upright landmarks."""
        o = self.options
        return det.score >= o.detect_threshold or (det.score >= o.upright_threshold
                                                   and _upright(det))

    def _set_aside_for_relook(self, dets: list[Detection], ratio: float,
                              relook: list[tuple[float, ...]]) -> list[Detection]:
        """The detections this pass accepts. Those of gate_weak_px or more at the working scale
        (this pass's scale / `ratio`) that it is unsure of, and those it accepts up to
        gate_relook_px, go to `relook` as (x0, y0, x1, y1, ratio), in this pass's pixels: the
        working scale sees them better (more faces found; and the boxes and landmarks that
        identification starts from, as before the gate)."""
        o = self.options
        accepted = []
        for det in dets:
            size = max(det.x1 - det.x0, det.y1 - det.y0) / ratio
            sure = self._accepted(det)
            if sure:
                accepted.append(det)
            if size >= o.gate_weak_px and (not sure or size <= o.gate_relook_px):
                relook.append((det.x0, det.y0, det.x1, det.y1, ratio))
        return accepted

    def _gated_windows(self, small: np.ndarray,
                       relook: list[tuple[float, ...]]) -> list[tuple[int, int, int, int]]:
        """The windows of the working copy worth the working pass, each at most a tile, sides
        made multiples of 32 where the photo allows (the network pads to them anyway): along
        grid rows, gate_margin px around every cell where YuNet scores at least
        gate_floor with a box of at most gate_small_face px; and twice the size of each box in
        `relook` (from the smaller pass, see _set_aside_for_relook) around it.

        Larger faces are the smaller pass's: it sees them at 19 px or more, and the working
        pass looks again at those it is unsure of or will encode."""
        assert self._yunet is not None
        o = self.options
        sh, sw = small.shape[:2]
        cells = self._yunet.candidates(small, o.gate_floor, o.gate_small_face)
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
                    wx0, wx1 = _span32(x0 + left, tw, sw)
                    wy0, wy1 = _span32(y0 + top, th, sh)
                    out.append((wx0, wy0, wx1, wy1))
        return out

    def _sideways_turns(self, rgb: Image.Image, probe_side: int = 800) -> list[int]:
        """The 90/270 degree turns worth a full search: those in which a quick look at a small
        copy finds an upright face. Saves two full passes on the usual upright photo."""
        scale = min(1.0, probe_side / max(rgb.size))
        probe = np.asarray(rgb.resize((max(1, round(rgb.width * scale)),
                                       max(1, round(rgb.height * scale))), Image.Resampling.BOX))
        sure = max(0.5, self.options.detect_threshold)
        return [r for r in (90, 270)
                if any(_upright(d) for d in self.detector.detect(_rotate(probe, r), sure))]

    def _publish_scale(self, w: int, h: int) -> float:
        side = self.options.publish_max_side
        return 1.0 if side <= 0 else min(1.0, side / max(w, h))

    def _smallest_face(self, w: int, h: int) -> float:
        """The smallest face, in full-resolution pixels, that must be found: one that will be
        min_published_face_px in the largest published file."""
        return self.options.min_published_face_px / self._publish_scale(w, h)

    def _scales(self, w: int, h: int) -> list[float]:
        """The working scale, then smaller ones down to a coarse one for big faces (CenterFace
        finds faces of about 24 to 300 px; tiles would also cut large faces). The working scale
        makes the smallest face that must be found base_face_px, where the heat map marks it
        for the second look (small photos are enlarged, never more than max_enlarge), and a
        long side of at least detect_max_side."""
        o = self.options
        main = min(o.max_enlarge, max(min(1.0, o.detect_max_side / max(w, h)),
                                      o.base_face_px / self._smallest_face(w, h)))
        coarse = min(1.0, 640 / max(w, h))
        scales = [main]
        while scales[-1] / PYRAMID_STEP > coarse:  # no face size falls between two passes
            scales.append(scales[-1] / PYRAMID_STEP)
        return scales + [coarse] if coarse < 0.6 * scales[-1] else scales

    def _gate(self, cand, gray, w, h) -> FoundFace:
        (x0, y0, x1, y1), det, rotation, marks = cand
        box = Box(max(0, int(y0)), min(w, int(round(x1))), min(h, int(round(y1))), max(0, int(x0)))
        quality = FaceQuality.OK
        if min(box.width, box.height) < self.options.min_face_px:
            quality = FaceQuality.TOO_SMALL
            box = _grown(box, self.options.small_box_growth, w, h)
        elif yaw_of(det) > self.options.max_yaw:
            quality = FaceQuality.TOO_TURNED
        elif sharpness(gray[box.top : box.bottom, box.left : box.right]) < self.options.min_sharpness:
            quality = FaceQuality.TOO_BLURRED
        return FoundFace(box=box, score=det.score, rotation=rotation, quality=quality, landmarks=marks)

    def _encode(self, full: np.ndarray, faces: list[FoundFace], rgb: Image.Image | None = None) -> None:
        """Encode the usable faces with both models (`rgb`: the same pixels as a Pillow image)."""
        self._encode_dlib(full, faces)
        self._encode_sface(full, faces, rgb)

    def _encode_sface(self, full: np.ndarray, faces: list[FoundFace],
                      rgb: Image.Image | None = None) -> None:
        """SFace on the crop aligned by the five landmarks (upright whatever the photo's turn)."""
        # A face found only by the enlarged second look has no full-frame landmarks: dlib alone.
        usable = [f for f in faces if f.quality is FaceQuality.OK and f.landmarks]
        if usable:
            img = rgb if rgb is not None else Image.fromarray(full)
            crops = [aligned_crop(img, np.asarray(f.landmarks, dtype=np.float64)) for f in usable]
            for face, vector in zip(usable, self._sface.encode(crops), strict=True):
                face.sface_encoding = vector

    def _encode_dlib(self, full: np.ndarray, faces: list[FoundFace]) -> None:
        """Batch-encode the usable faces with dlib, each in the turn where it stands upright."""
        h, w = full.shape[:2]
        for rotation in (0, 90, 270):
            todo = [f for f in faces if f.quality is FaceQuality.OK and f.rotation == rotation]
            if not todo:
                continue
            turned = _rotate(full, rotation)
            shapes = self._dlib.full_object_detections()
            for face in todo:
                b = face.box
                rbox = _map_box(b.left, b.top, b.right, b.bottom, _from_upright, rotation, w, h)
                top, right, bottom, left = dlib_rect_for(rbox)
                shapes.append(self._shape(turned, self._dlib.rectangle(left, top, right, bottom)))
            vectors = self._encoder.compute_face_descriptor(turned, shapes, 0)
            for face, vector in zip(todo, vectors, strict=True):
                face.encoding = np.asarray(vector, dtype=np.float64)

    def encode_single(self, img: Image.Image) -> tuple[np.ndarray, FoundFace]:
        """The one usable face of a reference photo; EnrolmentRefused otherwise, saying why and
        what the DPO can do about it (reference_refusal)."""
        found = self.find_faces(img, look_sideways=False)
        # Only sure faces count: the weaker boxes kept to cover small or masked faces in
        # published photos would otherwise refuse a portrait for a speck in its background.
        faces = [f for f in found if f.score >= self.options.detect_threshold]
        if not faces:
            # A face too small for a sure score is still worth naming as such.
            small = [f for f in found if f.quality is FaceQuality.TOO_SMALL]
            raise EnrolmentRefused(reference_refusal(
                "too_small" if small else "no_face",
                width=round(max((f.box.width for f in small), default=0)
                            / self.options.small_box_growth),
                min_px=self.options.min_face_px))
        if len(faces) > 1:
            raise EnrolmentRefused(reference_refusal("several_faces", count=len(faces)))
        face = faces[0]
        if face.encoding is None:
            raise EnrolmentRefused(reference_refusal(face.quality.value, width=face.box.width,
                                                     min_px=self.options.min_face_px))
        if self.options.flip_references:
            face = self.flip_averaged(img, face)
        assert face.encoding is not None
        return face.encoding, face

    def flip_averaged(self, img: Image.Image, face: FoundFace) -> FoundFace:
        """`face` of `img` with each model's vector averaged with that of its mirror image (the
        face found again in the mirrored photo) and brought back to the originals' length (dlib)
        or unit length (SFace); `face` itself where the mirror gives no usable face there."""
        if face.encoding is None:
            return face
        b = face.box
        cx, cy = img.width - (b.left + b.right) / 2, (b.top + b.bottom) / 2
        near = [f for f in self.find_faces(ImageOps.mirror(img), look_sideways=False)
                if f.encoding is not None and abs((f.box.left + f.box.right) / 2 - cx) < b.width / 3
                and abs((f.box.top + f.box.bottom) / 2 - cy) < b.height / 3]
        if not near:
            return face
        other = max(near, key=lambda f: f.box.width)
        assert other.encoding is not None
        dlib = (face.encoding + other.encoding) / 2
        dlib *= (np.linalg.norm(face.encoding) + np.linalg.norm(other.encoding)) / 2 / max(
            float(np.linalg.norm(dlib)), 1e-12)
        sface = face.sface_encoding
        if sface is not None and other.sface_encoding is not None:
            sface = sface + other.sface_encoding
            sface = (sface / max(float(np.linalg.norm(sface)), 1e-12)).astype(np.float32)
        return replace(face, encoding=dlib, sface_encoding=sface)

    def encode_at(self, img: Image.Image, where: tuple[int, int, int, int],
                  rotation: int = 0) -> FoundFace:
        """The face found again at `box` of an upright photo (a face an editor confirmed), through
        the same gates as a reference photo (sure, large, sharp and frontal enough);
        EnrolmentRefused otherwise. `where` is (top, right, bottom, left); only a crop around it
        is searched."""
        box = Box(*where)
        pad = int(0.6 * max(box.width, box.height))
        x0, y0 = max(0, box.left - pad), max(0, box.top - pad)
        x1, y1 = min(img.width, box.right + pad), min(img.height, box.bottom + pad)
        crop = img.crop((x0, y0, x1, y1))
        found = [f for f in self.find_faces(crop, look_sideways=rotation != 0)
                 if f.score >= self.options.detect_threshold]
        target = Box(box.top - y0, box.right - x0, box.bottom - y0, box.left - x0)
        best = max(found, key=lambda f: _overlap(f.box, target), default=None)
        if best is None or _overlap(best.box, target) < 0.4:
            raise EnrolmentRefused("the face was not found again in the photo")
        if best.encoding is None:
            raise EnrolmentRefused(f"the face is not usable as a template ({best.quality.value})")
        return best


_COUNTS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def reference_refusal(why: str, *, count: int = 0, width: int = 0, min_px: int = 40) -> str:
    """Why a reference photo gives no template, and what the DPO can do: `why` is "no_face",
    "several_faces" or a FaceQuality value other than "ok"."""
    if why == "several_faces":
        return (f"{_COUNTS.get(count, str(count))} faces: crop the photo to the pupil alone "
                "(one face) and enrol it again")
    if why == FaceQuality.TOO_SMALL:
        size = f" ({width} px wide; at least {min_px} px needed)" if width else ""
        return (f"face too small{size}: use a closer photo, or crop around the face without "
                "shrinking it")
    if why == FaceQuality.TOO_BLURRED:
        return "face too blurred: use a sharp, well-lit photo (not a screenshot or a scan)"
    if why == FaceQuality.TOO_TURNED:
        return "face too turned: use a photo of the pupil looking at the camera"
    return ("no face found: use a photo of the pupil's face from the front, upright, "
            "not covered")


def _span32(start: int, length: int, limit: int) -> tuple[int, int]:
    """[start, start + length) widened to a multiple of 32 within [0, limit), where it fits."""
    length = min(limit, -(-length // 32) * 32)
    start = max(0, min(start, limit - length))
    return start, start + length


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0, min(a.right, b.right) - max(a.left, b.left))
    h = max(0, min(a.bottom, b.bottom) - max(a.top, b.top))
    inter = w * h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0
