"""The engine's tunables, each with the measurement behind it (docs/developers/engine.md)."""

from __future__ import annotations

from dataclasses import dataclass

PYRAMID_STEP = 2.5  # between detection passes; CenterFace's sure range is wider than this


@dataclass(frozen=True)
class EngineOptions:
    detect_threshold: float = 0.35
    # CenterFace in int8 for the smaller passes (detector.py): 7 % less detection time, the
    # same recall, but its landmarks align SFace's crops less well (fused recognition with one
    # reference photo 92.4 % instead of 94.4 %): off until landmarks come from the float network
    quantized_detector: bool = False
    # A weaker score is enough when the landmarks stand as in a face (eyes, nose, mouth from top
    # to bottom): masked, cut-off or turned faces often score 0.2-0.35.
    upright_threshold: float = 0.25
    detect_max_side: int = 2048  # the normal pass runs at least at this long side
    publish_max_side: int = 4096  # the largest published side (0: published at full size)
    min_published_face_px: int = 10  # every face this large once published must be found
    base_face_px: float = 13  # the normal pass runs at the scale that makes such a face this big
    fine_face_px: int = 24  # the second look enlarges so that such a face is this large
    # Score accepted in the enlarged look. A face of 10-12 px can score only 0.15-0.25 there,
    # depending on where the window cuts it (one 10 px face: 0.18 in its window, 0.65 in one
    # shifted by 5 px). Measured on the benchmark: 0.25 missed two such faces (recall 0.9984),
    # 0.2 one, 0.15 none; false boxes 0.94 -> 1.35 -> 2.4 a photo, covering 0.57 -> 0.70 ->
    # 0.91 % of it. A missed face is published; a false box covers a small patch.
    fine_threshold: float = 0.15
    # Sifting before the enlarged look (second_look.second_look): each window is first looked at
    # enlarged only so that the smallest face is sift_face_px (the working pass's size, but on a
    # sharper crop from the full-resolution photo), and enlarged to fine_face_px only where that
    # look scores sift_floor: 70 % of the windows hold only texture. Measured on the benchmark:
    # the second look's time 38.6 -> 28.0 s, the same faces found; floor 0.1 loses a 14 px face.
    sift_face_px: float = 13  # 0: no sifting
    sift_floor: float = 0.02
    hint_threshold: float = 0.01  # heat-map peaks above this are worth the second look
    # The working pass is gated by YuNet (adapters/yunet.py, ~7x cheaper a pixel than
    # CenterFace): it looks only in windows gate_margin px around the cells (gate_cell px grid)
    # where YuNet scores at least gate_floor with a box of at most gate_small_face px (at the
    # working scale), and again around the faces of gate_weak_px or more (at the working scale)
    # that the pass just below found: those it is unsure of (gate_weak_floor up to the
    # acceptance), which it would often be sure of larger, and those it accepts up to
    # gate_relook_px, whose boxes and landmarks (identification starts from them) are better
    # at the larger scale. Only where a smaller pass follows, which finds the larger faces.
    # Measured (docs/developers/engine.md, "Choosing the scanning defaults"): of 1,984 small faces one 10.8 px
    # face had a mark as weak as 0.0126 (0.03 lost it); the working pass fed 69 instead of
    # 158 Mpx on the benchmark, the same faces found. 0: the whole photo is searched.
    gate_floor: float = 0.01
    gate_margin: int = 48  # a face of gate_small_face px stays whole with its cut-edge margin
    gate_cell: int = 32
    gate_small_face: float = 48
    gate_weak_floor: float = 0.05
    gate_weak_px: float = 36
    gate_relook_px: float = 200
    # Where the windows add up to this share of the working copy (a crowd, marked everywhere),
    # the whole copy is searched: tiles share less than neighbouring windows do.
    gate_max_share: float = 0.6
    small_box_growth: float = 1.3  # boxes of faces under min_face_px, grown to cover surely
    max_enlarge: float = 2.0  # the normal pass never enlarges a photo more than this
    min_face_px: int = 40
    # Pixels shared by neighbouring tiles of a pass. Where a smaller pass follows, tiles need
    # only hold whole the faces that pass would see under ~24 px; a face near a tile's inner
    # edge is left to its neighbour, and must lie far enough inside it to score there. Real
    # faces of 16-130 px (at the pass's scale) swept across the tile edges of a 3600x2400 photo:
    # none missed at 128 (1,500 faces) or 96 (1,000), one 26 px face of 152 at 64. 96 feeds the
    # network 4 % fewer pixels than 128 on the benchmark photos.
    tile_overlap: int = 96
    last_overlap: int = 192  # no smaller pass follows: tiles hold faces up to ~125 px whole
    # Sharpness (Laplacian SD of the 64x64 face crop): under min_sharpness a face is too
    # blurred to identify; from there to sharp_from it is soft, identified only under the
    # stricter margin of a small face (FusionRule.small_face_factor) and never a template.
    # On the children's proxy (bench/children_proxy.py, harsh level) the old single gate at 7.0
    # left 17 of 63 tuning faces unidentified by blur alone; identifying the soft ones
    # recognised 4 more with no wrong or un-enrolled face shown, the same from a floor of 3.0 to
    # 5.0 (6.0 lost one): the floor is the highest of those.
    min_sharpness: float = 5.0
    sharp_from: float = 7.0
    # Reference photos encoded as they are and mirrored, each model's two vectors averaged
    # (flip_averaged); an extra detection pass per reference photo. Measured on the children's
    # proxy (bench/children_proxy.py), hard condition, faces >= 60 px recognised: tuning part
    # 47 -> 48 of 49, held-back part 37 -> 38 of 39, no wrong person and no un-enrolled person
    # shown on either (soft condition: every face recognised either way). Faces editors confirm
    # (encode_at) are not mirrored.
    flip_references: bool = True
    max_yaw: float = 0.32  # nose offset from the eye midpoint, as a fraction of eye distance
    # Photos without an orientation tag: the quick look at the 90/270 degree turns runs on a copy
    # of this long side, or of probe_side_upright once the upright search found a face of at
    # least sure_upright_score standing upright (then only people lying near the camera remain).
    probe_side: int = 800
    probe_side_upright: int = 400
    sure_upright_score: float = 0.5
