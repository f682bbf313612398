"""The detection benchmark's split (bench/split.py) is fixed: the same keys land in the same part
on every machine and in every run, so a held-back photo cannot drift into the tuning part."""

from __future__ import annotations

from bench.split import HELD_BACK, TUNING, crop_part, part_of


def test_the_split_is_the_documented_one():
    assert part_of("groups/ultra-light-face-detector__imgs_17.jpg") == HELD_BACK
    assert part_of("groups/ultra-light-face-detector__imgs_img5.jpeg") == HELD_BACK
    assert part_of("groups/ultra-light-face-detector__imgs_img8.jpeg") == TUNING
    assert part_of("scene_24mp") == TUNING
    assert part_of("scene_12mp_a") == HELD_BACK
    assert [part_of(f"event_{s}") == HELD_BACK for s in (501, 502, 504)] == [True, False, True]


def test_a_crop_goes_with_its_person():
    assert crop_part("people/amy_adams/a.jpg") == crop_part("people/amy_adams/b.png") == HELD_BACK
    assert crop_part("people/joe_biden/x.jpg") == TUNING


def test_about_two_in_five_are_held_back():
    held = sum(part_of(f"key{i}") == HELD_BACK for i in range(2000))
    assert 700 < held < 900
