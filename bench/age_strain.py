"""An age gap for the children's proxy: the cardioidal strain of craniofacial growth.

Between a reference photo taken a year or more ago and this year's class photo a child's face
grows, and not evenly: the lower face and jaw lengthen more than the cranium. Pittenger and Shaw
(1975, "Aging faces as viscal-elastic events") modelled the change of a head's profile with age by
the cardioidal strain, in polar coordinates about a centre in the head (angle from straight up):

    R' = R * (1 + k * (1 - cos(theta)))

so points above the centre barely move, the sides widen by k and the chin moves out by 2k. The
proxy's probes are grown by `K_PER_YEAR` per year of the gap; outside 2 face widths the warp fades
to nothing so that the background stays put. What it cannot mimic: the change of skin, hair,
teeth and features that age also brings (the real photos of one person over years do).
"""

from __future__ import annotations

import cv2
import numpy as np

# Chosen by eye (a 3-year gap visibly lengthens the jaw, the face stays plausible), before any
# recall was measured with it.
K_PER_YEAR = 0.04


def grown(rgb: np.ndarray, centre: tuple[float, float], face_w: float, k: float) -> np.ndarray:
    """`rgb` (HxWx3 uint8) with the face around `centre` (x, y; between the eyes, a little
    below) grown by strain `k`."""
    if k == 0:
        return rgb
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - centre[0], ys - centre[1]
    r = np.sqrt(dx * dx + dy * dy) + 1e-6
    cos_t = -dy / r  # angle from straight up (image y grows downwards)
    fade = np.clip((2.0 * face_w - r) / (0.8 * face_w), 0.0, 1.0)  # 1 within 1.2 face widths
    factor = 1.0 / (1.0 + k * (1.0 - cos_t) * fade)  # output radius -> source radius
    map_x = (centre[0] + dx * factor).astype(np.float32)
    map_y = (centre[1] + dy * factor).astype(np.float32)
    return cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
