"""The face engine: orient -> detect (CenterFace, where YuNet marks something face-like at the
working scale, plus 90/270 turns, plus an enlarged second look where small faces may be) ->
quality gates -> encode (dlib's 128-d vector and SFace's on the landmark-aligned crop).

Each pass is a small module of `gatekeeper.adapters.engine` (its docstring lists them); this
class loads the models once per process and runs the passes in order. The names callers import
from here (EngineOptions, FoundFace, Box, FaceQuality, ...) stay here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from gatekeeper.adapters.detector import CenterFace, nms
from gatekeeper.adapters.engine import references
from gatekeeper.adapters.engine.encoders import Encoders, dlib_rect_for
from gatekeeper.adapters.engine.found import Box, Candidate, FaceQuality, FoundFace
from gatekeeper.adapters.engine.options import PYRAMID_STEP, EngineOptions
from gatekeeper.adapters.engine.pyramid import resized, scales
from gatekeeper.adapters.engine.quality import gate, sharpness
from gatekeeper.adapters.engine.references import reference_refusal
from gatekeeper.adapters.engine.sideways import sideways_turns
from gatekeeper.adapters.engine.turns import upright, yaw_of
from gatekeeper.adapters.engine.working import Search
from gatekeeper.adapters.yunet import YuNet

__all__ = ["PYRAMID_STEP", "Box", "Candidate", "EngineOptions", "FaceEngine", "FaceQuality",
           "FoundFace", "dlib_rect_for", "reference_refusal", "sharpness", "yaw_of"]


class FaceEngine:
    """Loads the detector and dlib models once per process; `find_faces` runs the whole pipeline."""

    def __init__(self, options: EngineOptions | None = None, threads: int = 1) -> None:
        import cv2  # deferred: only processes that scan enlarge photos

        cv2.setNumThreads(threads)  # one core per worker, as the networks
        self._cv2 = cv2
        self.options = options or EngineOptions()
        self.encoders = Encoders(threads=threads)
        ImageFile.LOAD_TRUNCATED_IMAGES = False  # keep uploads strict, whoever imported what
        self.detector = CenterFace(threads=threads, quantized=self.options.quantized_detector)
        self._yunet = YuNet(threads=threads) if self.options.gate_floor > 0 else None
        self.gate_crowded = False  # the last find_faces: the gate was asked and found a crowd
        self.sift_kept: float | None = None  # ... and the share of windows the sifting kept

    def find_faces(self, img: Image.Image, look_sideways: bool, encode: bool = True,
                   publish_side: int | None = None, *,
                   ask_gate: bool = True, sift: bool = True) -> list[FoundFace]:
        """Every face in an upright RGB image; encodings only for faces that pass the gates, and
        none at all with `encode=False` (nobody can be identified: e.g. an empty gallery).
        `publish_side`: the largest published long side this search must serve, instead of
        the options' (every face that will be min_published_face_px there is found).
        `ask_gate=False`: the working pass searches the whole working copy without asking the
        YuNet gate where to look (what the gate has it do anyway where its windows would cover
        most of the copy: a crowd); `gate_crowded` then says whether the gate was asked and
        found a crowd (a video's scan asks it again only now and then, services/video/scan.py).
        `sift=False`: every window of the enlarged second look is looked at, none sifted first
        (where the sifting keeps most windows, a crowd's, it costs more than it saves);
        `sift_kept` says afterwards what share of the windows the sifting kept (None: none
        was sifted)."""
        o = self.options if publish_side is None else replace(
            self.options, publish_max_side=publish_side)
        # One copy of the pixels while detecting (a 24 MP photo is 72 MB a copy): the PIL image
        # the caller gave when it is RGB already; the array form only when a pass needs it.
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        w, h = rgb.size
        search = Search(self.detector, self._yunet, o, rgb, sift=sift)
        pyramid = scales(o, w, h)
        # A face lying sideways is searched for at the working size of the old engine (up to
        # detect_max_side, no second look): turns are a guess from a quick look, and the
        # enlarged search costs most.
        sideways = [s for s in pyramid if s <= min(1.0, o.detect_max_side / max(w, h))]
        sideways = sideways or [min(1.0, o.detect_max_side / max(w, h))]
        kept: dict[float, np.ndarray] = {}  # the copies at sideways scales (<= detect_max_side)
        # With the working pass gated by YuNet, the smaller passes run first: the faces the
        # pass just below the working one finds are where it looks again (working.Search.run).
        gated = (ask_gate and self._yunet is not None and o.gate_floor > 0
                 and len(pyramid) > 1)
        relook: list[tuple[float, ...]] | None = [] if gated else None
        for scale in pyramid[1:] + pyramid[:1] if gated else pyramid:
            small = resized(self._cv2, rgb, scale)
            if scale in sideways:
                kept[scale] = small
            search.run(small, scale, 0, second=scale == pyramid[0],
                       relook=relook if scale in pyramid[:2] else None)
        if look_sideways:
            # The quick look decides which turns get a search. When the upright search already
            # found a sure upright face, the photo stands as it should and a turned face can
            # only be someone lying near the camera, a large face: a smaller quick look will do.
            stands = any(upright(c[1]) and c[1].score >= o.sure_upright_score
                         for c in search.candidates)
            turns = self._sideways_turns(rgb, o.probe_side_upright if stands else o.probe_side)
            for scale in sideways if turns else []:
                small = kept[scale] if scale in kept else resized(self._cv2, rgb, scale)
                for rotation in turns:
                    search.run(small, scale, rotation, second=False)
        self.gate_crowded = search.crowded
        sifted, passed = search.sifted
        self.sift_kept = passed / sifted if sifted else None
        faces = self._faces_of(search, rgb, o)
        if encode:
            self._encode(np.asarray(rgb), faces, rgb)
        return faces

    @staticmethod
    def _faces_of(search: Search, rgb: Image.Image, o: EngineOptions) -> list[FoundFace]:
        """One face per group of overlapping candidates, through the quality gate."""
        candidates = search.candidates
        if not candidates:
            return []
        w, h = rgb.size
        boxes = np.array([c[0] for c in candidates], dtype=np.float32)
        # Among overlapping boxes prefer the turn in which the landmarks stand upright.
        ranks = np.array([c[1].score * (1.0 if upright(c[1]) else 0.5) for c in candidates])
        keep = nms(boxes, ranks, 0.3, inside_limit=0.7)
        gray = np.asarray(rgb.convert("L"))
        return [gate(o, candidates[i], gray, w, h) for i in keep]

    def encode_found(self, img: Image.Image, faces: list[FoundFace]) -> None:
        """Encode faces found earlier without encodings (`find_faces(..., encode=False)`) on
        the same pixels: a video names a track from a few of its best frames, not every one."""
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        self._encode(np.asarray(rgb), faces, rgb)

    # The passes, as the tests and benchmarks reach them.

    def _scales(self, w: int, h: int) -> list[float]:
        return scales(self.options, w, h)

    def _sideways_turns(self, rgb: Image.Image, probe_side: int = 800) -> list[int]:
        return sideways_turns(self.detector, self.options, rgb, probe_side)

    def _encode(self, full: np.ndarray, faces: list[FoundFace],
                rgb: Image.Image | None = None) -> None:
        self.encoders.encode(full, faces, rgb)

    def _encode_dlib(self, full: np.ndarray, faces: list[FoundFace]) -> None:
        self.encoders.encode_dlib(full, faces)

    def _encode_sface(self, full: np.ndarray, faces: list[FoundFace],
                      rgb: Image.Image | None = None) -> None:
        self.encoders.encode_sface(full, faces, rgb)

    @property
    def _dlib(self) -> Any:
        return self.encoders.dlib

    @property
    def _shape(self) -> Any:
        return self.encoders.shape

    @property
    def _encoder(self) -> Any:
        return self.encoders.encoder

    # Enrolment (engine/references.py).

    def encode_single(self, img: Image.Image) -> tuple[np.ndarray, FoundFace]:
        """The one usable face of a reference photo; EnrolmentRefused otherwise."""
        return references.encode_single(self, img)

    def flip_averaged(self, img: Image.Image, face: FoundFace) -> FoundFace:
        """`face` with each model's vector averaged with that of its mirror image."""
        return references.flip_averaged(self, img, face)

    def encode_at(self, img: Image.Image, where: tuple[int, int, int, int],
                  rotation: int = 0) -> FoundFace:
        """The face an editor confirmed at `where` (top, right, bottom, left), found again."""
        return references.encode_at(self, img, where, rotation)
