"""Composition and the command line: the `gatekeeper` command, `serve` and `worker` start-up."""

import os

# Before numpy or dlib load OpenBLAS: scanning processes must not fight over cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
