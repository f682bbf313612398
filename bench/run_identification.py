import json
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bench.identification import run  # noqa: E402
from gatekeeper.adapters.faces import FaceEngine  # noqa: E402
from gatekeeper.config import Settings  # noqa: E402

s = Settings()
if __name__ == "__main__":
    print(json.dumps(run(FaceEngine, (s.match_tolerance, s.match_margin)), indent=1))
