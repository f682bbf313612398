"""Only the detection benchmark:

    uv run python -m bench.run_detection [--no-hog] [--quick] [--part tuning|held_back]

Both parts with HOG (the default) write bench/results/detection.json, as `make bench` does.
While tuning: `--part tuning --no-hog` (recall and engine time on the tuning part only; the
held-back part is looked at once a choice is made, never to make it). `--quick`: the whole scan
once per part instead of twice and no memory measurement.
"""

import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.detection import run  # noqa: E402
from bench.split import PARTS  # noqa: E402
from gatekeeper.adapters.faces import FaceEngine  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    parts = (args[args.index("--part") + 1],) if "--part" in args else PARTS
    if any(p not in PARTS for p in parts):
        raise SystemExit(f"--part is one of {', '.join(PARTS)}")
    result = run(FaceEngine, with_hog="--no-hog" not in args, parts=parts, quick="--quick" in args)
    print(json.dumps({p: {"summary": r["summary"], "whole_scan": r["whole_scan"]}
                      for p, r in result["parts"].items()}, indent=1))
