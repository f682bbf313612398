import json
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.children_proxy import run  # noqa: E402
from gatekeeper.adapters.faces import FaceEngine  # noqa: E402

if __name__ == "__main__":
    print(json.dumps(run(FaceEngine), indent=1))
