"""Video in and out through FFmpeg (the binary that the imageio-ffmpeg wheel ships; nothing is
downloaded at run time): decode to upright RGB frames, encode RGB frames to H.264 MP4.

Decoding reads the picture stream only (`-map 0:v:0`: no sound, subtitles or data), every
decoded frame once (`-fps_mode passthrough`), turned as the container says and scaled to the
size the caller expects, so the frame numbers of a scan and of a publish are the same frames.

Encoding writes a new file from pixels alone: no sound, no subtitle or data streams, no container,
stream or chapter metadata (`-map_metadata -1 -map_chapters -1`), no encoder string
(`+bitexact`), and the encoder's SEI messages removed (x264 writes its settings there).
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from gatekeeper.errors import InvalidImage


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # deferred: only processes that handle video need the binary's path

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _base() -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]


def _raw_out(width: int, height: int) -> list[str]:
    return ["-map", "0:v:0", "-an", "-sn", "-dn", "-vf", f"scale={width}:{height}",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]


def _error(stderr: bytes) -> str:
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:160] if lines else "no reason given"


def read_frames(data: bytes, width: int, height: int) -> Iterator[np.ndarray]:
    """Every frame of the movie as an (height, width, 3) uint8 array, in order; InvalidImage
    when FFmpeg cannot decode it."""
    size = width * height * 3
    with tempfile.TemporaryDirectory(prefix="gk-video-") as tmp:
        src = Path(tmp) / "in"
        src.write_bytes(data)
        with open(Path(tmp) / "err", "w+b") as err:
            proc = subprocess.Popen(
                [*_base(), "-i", str(src), "-fps_mode", "passthrough", *_raw_out(width, height)],
                stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            try:
                while True:
                    chunk = proc.stdout.read(size)
                    if len(chunk) < size:
                        break
                    yield np.frombuffer(chunk, dtype=np.uint8).reshape(height, width, 3)
            finally:
                proc.stdout.close()
                if proc.poll() is None:
                    proc.kill()
                code = proc.wait()
            if code != 0:
                err.seek(0)
                raise InvalidImage(f"video could not be decoded: {_error(err.read())}")


def still(data: bytes, at_s: float, width: int, height: int) -> np.ndarray:
    """One frame near `at_s` seconds (a quick seek): the reviewer's picture, and proof at upload
    that the picture stream decodes at all."""
    with tempfile.TemporaryDirectory(prefix="gk-video-") as tmp:
        src = Path(tmp) / "in"
        src.write_bytes(data)
        out = subprocess.run([*_base(), "-ss", f"{max(0.0, at_s):.3f}", "-i", str(src),
                              "-frames:v", "1", *_raw_out(width, height)],
                             capture_output=True, check=False)
    size = width * height * 3
    if out.returncode != 0 or len(out.stdout) < size:
        raise InvalidImage(f"video could not be decoded: {_error(out.stderr)}")
    return np.frombuffer(out.stdout[:size], dtype=np.uint8).reshape(height, width, 3)


def even_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The encoded size: long side at most `max_side`, both sides even (4:2:0 needs them so)."""
    k = min(1.0, max_side / max(width, height)) if max_side > 0 else 1.0
    return max(2, int(width * k) // 2 * 2), max(2, int(height * k) // 2 * 2)


def encode(frames: Iterable[np.ndarray], width: int, height: int, fps: float, *,
           max_side: int, crf: int = 23) -> bytes:
    """H.264 MP4 (yuv420p, fast start) from RGB frames of (height, width); nothing else in it."""
    out_w, out_h = even_size(width, height, max_side)
    rate = Fraction(fps).limit_denominator(1001)
    with tempfile.TemporaryDirectory(prefix="gk-video-") as tmp:
        dst = Path(tmp) / "out.mp4"
        with open(Path(tmp) / "err", "w+b") as err:
            proc = subprocess.Popen(
                [*_base(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                 "-r", f"{rate.numerator}/{rate.denominator}", "-i", "-",
                 "-map", "0:v:0", "-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
                 "-vf", f"scale={out_w}:{out_h}", "-c:v", "libx264", "-preset", "veryfast",
                 "-crf", str(crf), "-pix_fmt", "yuv420p", "-bsf:v", "filter_units=remove_types=6",
                 "-fflags", "+bitexact", "-flags:v", "+bitexact", "-movflags", "+faststart",
                 "-f", "mp4", str(dst)],
                stdin=subprocess.PIPE, stderr=err)
            assert proc.stdin is not None
            failed: list[BaseException] = []
            try:
                for frame in frames:
                    proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
            except BrokenPipeError as exc:
                failed.append(exc)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
            code = proc.wait()
            if code != 0 or failed:
                err.seek(0)
                raise InvalidImage(f"video could not be encoded: {_error(err.read())}")
        return dst.read_bytes()

