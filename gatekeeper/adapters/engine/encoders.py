"""The two face vectors of every usable face: dlib's 128-d vector (its 5-point shapes and its
encoder, loaded from face_recognition_models without importing face_recognition, which at
import loads every dlib model and switches Pillow's LOAD_TRUNCATED_IMAGES on) and SFace's 128-d
vector on the landmark-aligned crop (adapters/sface.py)."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from gatekeeper.adapters.engine.found import IDENTIFIABLE, FoundFace
from gatekeeper.adapters.engine.turns import from_upright, map_box, rotate
from gatekeeper.adapters.sface import SFaceEncoder, aligned_crop


def dlib_rect_for(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """CenterFace boxes run from hairline to chin; dlib's models expect its tighter HOG-style box."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    side = 1.05 * w
    cx, cy = (x0 + x1) / 2, y0 + 0.535 * h
    return (int(round(cy - side / 2)), int(round(cx + side / 2)),
            int(round(cy + side / 2)), int(round(cx - side / 2)))


class Encoders:
    """dlib's two models and SFace, loaded once per process."""

    def __init__(self, threads: int = 1) -> None:
        import dlib  # deferred: loading the models is the expensive part, once per process

        with warnings.catch_warnings():  # face_recognition_models still imports pkg_resources
            warnings.simplefilter("ignore", UserWarning)
            import face_recognition_models as frm  # deferred: with dlib, above

        self.dlib = dlib
        self.shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        self.sface = SFaceEncoder(threads=threads)

    def encode(self, full: np.ndarray, faces: list[FoundFace],
               rgb: Image.Image | None = None) -> None:
        """Encode the usable faces with both models (`rgb`: the same pixels as a Pillow image)."""
        self.encode_dlib(full, faces)
        self.encode_sface(full, faces, rgb)

    def encode_sface(self, full: np.ndarray, faces: list[FoundFace],
                     rgb: Image.Image | None = None) -> None:
        """SFace on the crop aligned by the five landmarks (upright whatever the photo's turn)."""
        # A face found only by the enlarged second look has no full-frame landmarks: dlib alone.
        usable = [f for f in faces if f.quality in IDENTIFIABLE and f.landmarks]
        if usable:
            img = rgb if rgb is not None else Image.fromarray(full)
            crops = [aligned_crop(img, np.asarray(f.landmarks, dtype=np.float64)) for f in usable]
            for face, vector in zip(usable, self.sface.encode(crops), strict=True):
                face.sface_encoding = vector

    def encode_dlib(self, full: np.ndarray, faces: list[FoundFace]) -> None:
        """Batch-encode the usable faces with dlib, each in the turn where it stands upright."""
        h, w = full.shape[:2]
        for rotation in (0, 90, 270):
            todo = [f for f in faces if f.quality in IDENTIFIABLE and f.rotation == rotation]
            if not todo:
                continue
            turned = rotate(full, rotation)
            shapes = self.dlib.full_object_detections()
            for face in todo:
                b = face.box
                rbox = map_box(b.left, b.top, b.right, b.bottom, from_upright, rotation, w, h)
                top, right, bottom, left = dlib_rect_for(rbox)
                shapes.append(self.shape(turned, self.dlib.rectangle(left, top, right, bottom)))
            vectors = self.encoder.compute_face_descriptor(turned, shapes, 0)
            for face, vector in zip(todo, vectors, strict=True):
                face.encoding = np.asarray(vector, dtype=np.float64)
