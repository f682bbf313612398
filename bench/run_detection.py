"""Only the detection benchmark: `uv run python -m bench.run_detection [--no-hog]`."""

import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.detection import run  # noqa: E402
from gatekeeper.adapters.faces import FaceEngine  # noqa: E402

if __name__ == "__main__":
    print(json.dumps(run(FaceEngine, with_hog="--no-hog" not in sys.argv)["summary"], indent=1))
