"""Several templates per person: the nearest template alone vs the pooled rule (a person with 3+
templates must also be close to their 2 best; rivals keep their nearest), fused identification on
the shared people photos. Run: `uv run python -m bench.template_pooling`.

Scenarios: genuine faces (the first `n_refs` photos of each person with more enrolled, the rest
probed at native size and pasted at 45-120 px), strangers (people with too few photos), and one
wrong template: a photo of a stranger B enrolled into person A (an editor's confirmation later
contradicted), B's other photos probed, and A's own photos probed with the wrong template there.
"""

from __future__ import annotations

import os
from collections import defaultdict

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gatekeeper.adapters.engine.found import FaceQuality  # noqa: E402
from gatekeeper.domain.fusion import FusionRule, Gallery, identify_fused  # noqa: E402
from gatekeeper.domain.images import decode  # noqa: E402
from gatekeeper.errors import InvalidImage  # noqa: E402

from .common import require_faces, write  # noqa: E402
from .identification import encode_probe, main_face, pasted  # noqa: E402

SIZES = (45, 60, 120)
RULES = {"nearest": FusionRule(pool=1), "pooled": FusionRule()}


def collect(engine) -> dict[str, list[dict]]:
    """Per identity, per photo: {size: (dlib, width, sface)} for faces both models encode."""
    rng = np.random.default_rng(7)
    out: dict[str, list[dict]] = defaultdict(list)
    for folder in sorted((require_faces() / "people").iterdir()):
        if folder.name == "unnamed":
            continue
        for path in sorted(folder.iterdir()):
            try:
                img = decode(path.read_bytes(), 200_000_000).pixels
            except InvalidImage:
                continue
            face = main_face(engine.find_faces(img, look_sideways=False))
            # native photos are templates too: sharp only, as enrolment takes them
            if (face is None or face.encoding is None or face.sface_encoding is None
                    or face.quality is not FaceQuality.OK):
                continue
            recs = {"native": (face.encoding, face.box.width, face.sface_encoding, False)}
            for px in SIZES:
                canvas, where = pasted(img, face.box, px, rng)
                recs[str(px)] = encode_probe(engine, canvas, where)
            out[folder.name].append({k: v for k, v in recs.items()
                                     if v[0] is not None and v[2] is not None})
    return dict(out)


def _gallery(rows: list[tuple[int, tuple]]) -> Gallery:
    return Gallery(np.stack([r[1][0] for r in rows]),
                   np.stack([r[1][2] for r in rows]).astype(np.float32),
                   np.array([r[0] for r in rows], dtype=np.int64))


def _who(g: Gallery, rec: tuple, rule: FusionRule) -> int | None:
    return identify_fused(rec[0][None], np.asarray(rec[2], np.float32)[None],
                          np.array([rec[1]], float), g, rule,
                          soft=np.array([bool(rec[3])]))[0].person_id  # soft: stricter margin


def evaluate(data: dict[str, list[dict]], rule: FusionRule, n_refs: int) -> dict[str, int]:
    enrolled = sorted(k for k, v in data.items() if len(v) > n_refs)
    idx = {n: i for i, n in enumerate(enrolled)}
    rows = [(idx[n], data[n][j]["native"]) for n in enrolled for j in range(n_refs)]
    g = _gallery(rows)
    res: dict[str, int] = defaultdict(int)
    for n in enrolled:
        for photo in data[n][n_refs:]:
            for rec in photo.values():
                got = _who(g, rec, rule)
                res["genuine"] += 1
                res["recognised"] += got == idx[n]
                res["wrong_person"] += got not in (None, idx[n])
    strangers = {n: v for n, v in data.items() if n not in idx}
    for photos in strangers.values():
        for photo in photos:
            for rec in photo.values():
                res["stranger_probes"] += 1
                res["stranger_shown"] += _who(g, rec, rule) is not None
    for a in enrolled:
        for photos in strangers.values():
            if len(photos) < 2:
                continue
            bad = _gallery(rows + [(idx[a], photos[0]["native"])])
            for photo in photos[1:]:
                for rec in photo.values():
                    res["wrong_template_probes"] += 1
                    res["wrong_template_shown"] += _who(bad, rec, rule) is not None
            for photo in data[a][n_refs:]:
                for rec in photo.values():
                    res["genuine_beside_wrong_template"] += 1
                    res["recognised_beside_wrong_template"] += _who(bad, rec, rule) == idx[a]
    res["enrolled_people"] = len(enrolled)
    return dict(res)


def run(engine_factory) -> dict:
    data = collect(engine_factory())
    result = {f"{n}_reference_photos": {name: evaluate(data, rule, n)
                                        for name, rule in RULES.items()} for n in (2, 3)}
    write("template_pooling", result)
    return result


if __name__ == "__main__":
    import json

    from gatekeeper.adapters.faces import FaceEngine

    print(json.dumps(run(FaceEngine), indent=1))
