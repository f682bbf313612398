"""Published files: the independent verifier, irreversible covering and clean encoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gatekeeper.domain.redact import CoverMode, Region, cover, head_region
from gatekeeper.domain.rendition import encode_jpeg
from gatekeeper.domain.verify import verify_jpeg, verify_png
from gatekeeper.errors import UnsafeOutput
from tests import imagegen


def noise(w=160, h=120, seed=0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


def test_encoded_output_passes_the_verifier_and_keeps_no_metadata():
    img = noise()
    img.info["comment"] = b"Amara Okafor"
    data = encode_jpeg(img, 2048, 88)
    verify_jpeg(data)
    assert b"Amara" not in data and b"Exif" not in data
    assert Image.open(io.BytesIO(data)).size == (160, 120)


def test_long_side_is_limited():
    assert Image.open(io.BytesIO(encode_jpeg(noise(400, 100), 200, 80))).size == (200, 50)


@pytest.mark.parametrize("mutate,reason", [
    (lambda d: d + b"trailing secret", "after the JPEG end"),
    (lambda d: d[:2] + b"\xff\xfe\x00\x08comment" + d[2:], "0xFE"),
    (lambda d: d[:2] + b"\xff\xe1\x00\x08Exif\x00\x00" + d[2:], "0xE1"),
    (lambda d: d[:-2], "no end marker|runs to the end"),
    (lambda d: b"GIF89a" + d, "not a JPEG"),
])
def test_verifier_refuses_anything_but_a_minimal_jfif(mutate, reason):
    data = encode_jpeg(noise(), 2048, 88)
    with pytest.raises(UnsafeOutput, match=reason):
        verify_jpeg(mutate(data))


def test_png_verifier():
    buf = io.BytesIO()
    noise().save(buf, "PNG")
    verify_png(buf.getvalue())
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Amara")
    buf = io.BytesIO()
    noise().save(buf, "PNG", pnginfo=info)
    with pytest.raises(UnsafeOutput, match="tEXt"):
        verify_png(buf.getvalue())


def test_head_region_grows_the_box_and_clips():
    r = head_region(top=100, right=200, bottom=200, left=100, width=1000, height=1000)
    assert (r.x0, r.y0, r.x1, r.y1) == (65, 40, 236, 226)
    edge = head_region(top=0, right=50, bottom=40, left=0, width=60, height=45)
    assert (edge.x0, edge.y0) == (0, 0) and edge.x1 <= 60 and edge.y1 <= 45


def test_a_face_cut_by_the_edge_is_covered_as_the_whole_face_it_is():
    """A 40x50 face rising out through the top is boxed as the 40x17 strip left in the picture:
    the head reaches below its chin as for the whole face (by its width), not by the strip's
    height (found by a video of a crowd: the chins of faces cut by the top edge showed)."""
    strip = head_region(top=0, right=140, bottom=17, left=100, width=640, height=360)
    assert strip.y1 >= 17 + 0.25 * 50
    side = head_region(top=100, right=14, bottom=150, left=0, width=640, height=360)
    assert side.x1 >= 14 + 0.35 * 40  # cut at the left: its width from its height
    whole = head_region(top=100, right=140, bottom=117, left=100, width=640, height=360)
    assert whole.y1 == int(117 + 0.25 * 17 + 1)  # inside the picture the box is the face


@pytest.mark.parametrize(("size", "largest", "rounds"), [((200, 160), 45, 200),
                                                        ((640, 360), 300, 40)])
def test_covers_are_pillows_rounded_rectangles_of_the_mean_colour(size, largest, rounds):
    """The fast cover (bands drawn by OpenCV into the picture, corners through a remembered
    mask, OpenCV's sum) writes exactly what Pillow's rounded rectangle filled with the
    truncated mean would: a corner or a colour a pixel off changed a JPEG's ringing over a
    10 px face (found by test_scan_depth). Small regions, and a video's heads (up to 300 px,
    many overlapping, cut by the edges)."""
    from PIL import ImageDraw

    rng = np.random.default_rng(7)
    width, height = size
    img = Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    for _ in range(rounds):
        regions = []
        for _ in range(int(rng.integers(1, 12))):
            x0, y0 = int(rng.integers(0, width - 3)), int(rng.integers(0, height - 3))
            w, h = (int(v) for v in rng.integers(3, largest, 2))
            regions.append((Region(x0, y0, min(width, x0 + w), min(height, y0 + h)),
                            bool(rng.integers(0, 2))))
        expected = np.array(img)
        for r, rounded in regions:
            patch = expected[r.y0:r.y1, r.x0:r.x1]
            mask = Image.new("L", (patch.shape[1], patch.shape[0]), 0)
            radius = int(0.35 * min(patch.shape[:2])) if rounded else 0
            ImageDraw.Draw(mask).rounded_rectangle(
                (0, 0, patch.shape[1] - 1, patch.shape[0] - 1), radius=radius, fill=255)
            colour = patch.reshape(-1, 3).mean(axis=0).astype(np.uint8)
            patch[np.asarray(mask) > 0] = colour
        assert np.array_equal(np.asarray(cover(img, regions)), expected)


def test_corners_remembered_by_radius_are_the_corners_pillow_draws_at_every_size():
    """A head's corner squares are remembered by their radius alone where Pillow draws the
    corners apart (a video's heads come in thousands of sizes but few radii): the same squares
    as drawing the region at its own size, for every size from 3 px (joined corners too)."""
    from gatekeeper.domain.redact import _corners, _drawn_corners

    for w in range(3, 160):
        for h in range(3, 160, 5):
            r = int(0.35 * min(w, h))
            if r < 1:
                continue
            drawn = _drawn_corners.__wrapped__(w, h, r)
            assert all(np.array_equal(a, b) for a, b in zip(_corners(w, h, r), drawn,
                                                            strict=True)), (w, h, r)


def test_solid_cover_leaves_only_the_average_colour():
    img = noise(200, 200)
    region = Region(40, 40, 160, 160)
    out = np.asarray(cover(img, [(region, True)], CoverMode.SOLID))
    centre = out[70:130, 70:130].reshape(-1, 3)
    assert (centre == centre[0]).all()
    assert np.abs(centre[0] - np.asarray(img)[40:160, 40:160].reshape(-1, 3).mean(0)).max() < 2
    assert (out[:40] == np.asarray(img)[:40]).all()  # outside untouched


def test_pixelate_is_at_most_six_blocks_wide():
    img = noise(240, 240)
    out = np.asarray(cover(img, [(Region(0, 0, 240, 240), False)], CoverMode.PIXELATE,
                           rng=np.random.default_rng(1)))
    row = out[120]
    changes = int((np.abs(np.diff(row.astype(int), axis=0)).sum(axis=1) > 0).sum())
    assert changes <= 5


def test_covered_face_is_not_found_again(face_engine):
    img = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    [face] = [f for f in face_engine.find_faces(img, False) if f.box.width > 200]
    region = head_region(face.box.top, face.box.right, face.box.bottom, face.box.left,
                         img.width, img.height)
    import face_recognition

    for mode in CoverMode:
        out = cover(img, [(region, True)], mode)
        crop = out.crop((region.x0, region.y0, region.x1, region.y1))
        assert face_engine.find_faces(crop, False) == []
        assert face_recognition.face_locations(np.asarray(crop), number_of_times_to_upsample=2) == []
