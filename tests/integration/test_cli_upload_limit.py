"""`gatekeeper ingest` honours the web's upload size limit (GATEKEEPER_MAX_UPLOAD_BYTES): a file
over it is refused with the limit named, without being read whole into memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gatekeeper.entrypoints.cli import main
from tests import imagegen
from tests.integration.helpers import PASSWORD


def test_ingest_refuses_a_file_over_the_upload_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GATEKEEPER_MAX_UPLOAD_BYTES", "50000")
    home = ["--home", str(tmp_path / "h")]
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD)
    assert main(["init", *home]) == 0
    assert main(["users", "add", "office1", "--role", "office", "--password-file", str(pw),
                 *home]) == 0
    small, big = tmp_path / "small.jpg", tmp_path / "big.jpg"
    pixels = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    small.write_bytes(imagegen.jpeg(Image.fromarray(pixels)))
    big.write_bytes(small.read_bytes() + b"\0" * 60_000)
    real = Path.read_bytes

    def never_whole(self: Path) -> bytes:
        assert self.suffix != ".jpg", f"{self.name} read whole"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", never_whole)
    capsys.readouterr()
    assert main(["ingest", str(small), str(big), "--event", "Trip", "--by", "office1",
                 *home]) == 1
    out = capsys.readouterr()
    assert f"{small}: held photo 1" in out.out or f"{small}: accepted photo 1" in out.out
    assert f"{big}: rejected: file too large (" in out.out
    assert ("MB; the upload limit is 0.1 MB, 50,000 bytes): trim a video to the part to "
            "publish, or ask whoever runs Gatekeeper to raise GATEKEEPER_MAX_UPLOAD_BYTES") in out.out
    assert "1 of 2 file(s) rejected" in out.err
