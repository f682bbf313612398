"""Which copies a photo's face search covers (services/photos/depth.py): a copy larger than the
side its faces were searched for waits for the deeper search; full size (0) is the largest."""

from __future__ import annotations

import pytest

from consent_db.models import Photo
from gatekeeper.services.photos.depth import searched_for


def _photo(width: int, height: int, scan_side: int | None, media: str = "photo") -> Photo:
    return Photo(width=width, height=height, scan_side=scan_side, media=media)


@pytest.mark.parametrize(("photo", "side", "covered"), [
    (_photo(3600, 2400, 2048), 2048, True),
    (_photo(3600, 2400, 2048), 1600, True),
    (_photo(3600, 2400, 2048), 4096, False),
    (_photo(3600, 2400, 2048), 0, False),  # full size is larger than 2048 here
    (_photo(3600, 2400, 4096), 4096, True),
    (_photo(3600, 2400, 4096), 0, True),  # the photo is no larger than 4096: searched whole
    (_photo(2000, 1500, 2048), 4096, True),  # no larger than the side searched for
    (_photo(2000, 1500, 2048), 0, True),
    (_photo(6000, 4000, 4096), 0, False),
    (_photo(6000, 4000, 0), 0, True),  # searched for full size
    (_photo(6000, 4000, None), 4096, True),  # scanned before depths: every size
    (_photo(3840, 2160, 2048, media="video"), 4096, True),  # videos: their own scan
])
def test_a_copy_is_covered_only_up_to_the_side_searched_for(photo, side, covered):
    assert searched_for(photo, side) is covered
