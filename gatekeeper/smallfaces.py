"""A second, enlarged look where small faces may be.

CenterFace works at stride 4 and is only sure of faces of about 24 px or more; a face that will
be 10 px in a published file can be 10 px for it. Running the whole photo enlarged 3x costs 9x
the pixels, so instead the normal pass leaves hints (heat-map peaks too weak to be a face, with
a small predicted size), and only the neighbourhood of those hints is cut from the
full-resolution photo, enlarged so the smallest face that must be found becomes
`fine_face_px`, and searched again. Where hints crowd, their windows merge into one region.

Fail closed: in an enlarged window a weaker score is accepted than in the normal pass, since
the window was chosen because something face-like was there, and a false box only costs a
covered patch.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .detector import Detection

SIZE_LIMIT = 2.5


def windows(points: list[tuple[float, float]], w: int, h: int, cell: float,
            margin: float) -> list[tuple[int, int, int, int]]:
    """Group points on a grid of `cell` px; each 8-connected group of occupied cells becomes one
    window (x0, y0, x1, y1), its cells' extent grown by `margin` px and clipped to the image."""
    if not points:
        return []
    gw, gh = int(w // cell) + 1, int(h // cell) + 1
    occupied = np.zeros((gh, gw), dtype=bool)
    for x, y in points:
        occupied[min(gh - 1, int(y // cell)), min(gw - 1, int(x // cell))] = True
    seen = np.zeros_like(occupied)
    out = []
    for cy, cx in zip(*np.nonzero(occupied), strict=True):
        if seen[cy, cx]:
            continue
        stack, cells = [(cy, cx)], []
        seen[cy, cx] = True
        while stack:
            y, x = stack.pop()
            cells.append((y, x))
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < gh and 0 <= nx < gw and occupied[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        ys, xs = [c[0] for c in cells], [c[1] for c in cells]
        out.append((max(0, int(min(xs) * cell - margin)), max(0, int(min(ys) * cell - margin)),
                    min(w, int((max(xs) + 1) * cell + margin)),
                    min(h, int((max(ys) + 1) * cell + margin))))
    return out


def second_look(detector, full: Image.Image, hints, sure, smallest: float, zoom: float,
                threshold: float, rotation: int = 0) -> list[tuple[tuple, Detection]]:
    """Look again, enlarged by `zoom`, around the hints (x, y, predicted size, in full-resolution
    upright pixels) that could be a face of `smallest` px or a little larger and do not lie on
    a face already found (`sure` boxes x0, y0, x1, y1): a found face's flanks are weak peaks."""
    near = [(x0 - (x1 - x0) / 4, y0 - (y1 - y0) / 4, x1 + (x1 - x0) / 4, y1 + (y1 - y0) / 4)
            for x0, y0, x1, y1 in sure]
    points = [(x, y) for x, y, size in hints if 0.5 * smallest <= size <= SIZE_LIMIT * smallest
              and not any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in near)]
    found = []
    for win in windows(points, full.width, full.height, cell=2 * smallest, margin=1.25 * smallest):
        found += look_closer(detector, full, win, zoom, threshold, rotation)
    return found


def look_closer(detector, full: Image.Image, win: tuple[int, int, int, int], zoom: float,
                threshold: float, rotation: int = 0) -> list[tuple[tuple, Detection]]:
    """Faces in one window of the full-resolution upright image, enlarged by `zoom` and turned
    by `rotation` (counter-clockwise): (upright full-resolution box, detection in the turned
    window's pixels, for the landmark checks)."""
    x0, y0, x1, y1 = win
    size = (max(1, round((x1 - x0) * zoom)), max(1, round((y1 - y0) * zoom)))
    crop = np.asarray(full.resize(size, Image.Resampling.BICUBIC, box=(x0, y0, x1, y1)))
    turned = np.ascontiguousarray(np.rot90(crop, k=rotation // 90))
    kx, ky = (x1 - x0) / size[0], (y1 - y0) / size[1]
    out = []
    for d in detector.detect(turned, threshold):
        bx0, by0, bx1, by1 = _upright_box(d, rotation, size[0], size[1])
        out.append(((x0 + bx0 * kx, y0 + by0 * ky, x0 + bx1 * kx, y0 + by1 * ky), d))
    return out


def _upright_box(d: Detection, rotation: int, w: int, h: int) -> tuple[float, ...]:
    """A box found in an image turned counter-clockwise by `rotation`, in the upright w x h one."""
    if rotation == 90:
        return w - d.y1, d.x0, w - d.y0, d.x1
    if rotation == 270:
        return d.y0, h - d.x1, d.y1, h - d.x0
    return d.x0, d.y0, d.x1, d.y1
