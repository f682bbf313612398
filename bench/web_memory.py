"""Peak memory of the web process while 4 browsers view an 80-megapixel photo at once
(target: at most 400 MB), and how long other users' pages wait meanwhile."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.common import write

PASSWORD = "long-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _big_png(path: Path, width: int = 10_000, height: int = 7_950) -> None:
    rng = np.random.default_rng(7)
    tile = rng.integers(0, 255, (height // 10, width // 10, 3), dtype=np.uint8)
    Image.fromarray(np.kron(tile, np.ones((10, 10, 1), dtype=np.uint8))).save(path, "PNG")


def _client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
    client.post("/signin", data={"username": username, "password": PASSWORD, "csrf": token})
    return client


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "GATEKEEPER_HOME": str(home), "GATEKEEPER_MAX_UPLOAD_BYTES": "400000000"}
        gk = [sys.executable, "-m", "gatekeeper"]
        subprocess.run([*gk, "init"], env=env, check=True, capture_output=True)
        pw = Path(tmp) / "pw"
        pw.write_text(PASSWORD)
        for name, role in (("office1", "office"), ("editor1", "editor")):
            subprocess.run([*gk, "users", "add", name, "--role", role, "--password-file", str(pw)],
                           env=env, check=True, capture_output=True)
        png = Path(tmp) / "big.png"
        _big_png(png)
        subprocess.run([*gk, "ingest", str(png), "--event", "Big", "--by", "office1"], env=env,
                       capture_output=True)
        port = _free_port()
        web = subprocess.Popen([*gk, "serve", "--no-worker", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/signin", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            start_mb = _vm_hwm_mb(web.pid)
            editors = [_client(base, "editor1") for _ in range(4)]
            other = _client(base, "editor1")
            waits: list[float] = []

            def view(c: httpx.Client) -> None:
                c.get("/photos/1/image")

            threads = [threading.Thread(target=view, args=(c,)) for c in editors]
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                t0 = time.perf_counter()
                other.get("/reports")
                waits.append(time.perf_counter() - t0)
            for t in threads:
                t.join()
            size = Image.open(io.BytesIO(editors[0].get("/photos/1/image").content)).size
            result = {"photo_megapixels": 79.5, "concurrent_views": 4,
                      "web_peak_mb": round(_vm_hwm_mb(web.pid), 1),
                      "web_start_mb": round(start_mb, 1), "review_image_size": list(size),
                      "other_page_max_wait_s": round(max(waits or [0.0]), 3)}
        finally:
            web.terminate()
            web.wait(timeout=20)
    write("web_memory", result)
    return result


if __name__ == "__main__":
    print(run())
