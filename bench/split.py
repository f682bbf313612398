"""The detection benchmark in two parts: a tuning part, the only one any engine choice may look
at, and a held-back part that says whether a choice carries over to photos it was not made on.

The rule (bench/labels/README.md): a key goes to the held-back part when the first 8 hex digits
of sha256("gatekeeper-bench-split-1:" + key), read as an integer, are 0 or 1 modulo 5 (about two
in five); everything else is tuning. The key is

- a labelled photo's path in the face set (`groups/...jpg`); a rescaled copy follows its photo;
- a generated scene's name (`scene_12mp_a`, `event_503`);
- a face crop's person, the folder under `people/`: a generated scene pastes only crops of
  people of its own part, so no face pasted into a held-back scene was ever seen while tuning.

Nothing here depends on a detector or on any result: the split was fixed before any figure of
it was measured, and changing the salt or the modulus is changing the benchmark.
"""

from __future__ import annotations

import hashlib

SALT = "gatekeeper-bench-split-1:"
TUNING, HELD_BACK = "tuning", "held_back"
PARTS = (TUNING, HELD_BACK)


def part_of(key: str) -> str:
    """`held_back` for about two keys in five, `tuning` for the rest; the same on every machine."""
    digest = hashlib.sha256((SALT + key).encode()).hexdigest()
    return HELD_BACK if int(digest[:8], 16) % 5 < 2 else TUNING


def crop_part(crop_file: str) -> str:
    """The part of a face crop: that of its person (`people/<person>/<file>`)."""
    parts = crop_file.split("/")
    return part_of(parts[1] if len(parts) > 2 and parts[0] == "people" else crop_file)
