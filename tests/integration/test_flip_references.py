"""Flip-averaged reference encodings (EngineOptions.flip_references, on by default): the face
and its mirror image, each model's vectors averaged, keep the models' scales."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from tests import imagegen
from tests.integration.helpers import TOM


def test_flip_averaged_reference_stays_the_same_face(face_engine):
    img = imagegen.load(TOM)
    assert face_engine.options.flip_references
    dlib, flipped = face_engine.encode_single(img)
    engine = copy.copy(face_engine)  # the same models, the option off
    engine.options = replace(engine.options, flip_references=False)
    plain_dlib, plain = engine.encode_single(img)
    assert flipped.box == plain.box
    assert 0 < np.linalg.norm(dlib - plain_dlib) < 0.25  # a different vector, the same person
    assert abs(np.linalg.norm(dlib) - np.linalg.norm(plain_dlib)) < 0.05
    assert abs(float(np.linalg.norm(flipped.sface_encoding)) - 1) < 1e-5
    assert float(flipped.sface_encoding @ plain.sface_encoding) > 0.8
