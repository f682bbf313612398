"""Enrolment never fails silently: each refused reference photo is named with why it was refused
and what the DPO can do (no face, two faces, too small, too blurred, too turned), in the CLI, in
the service's refusal and on the person page where reference photos are uploaded."""

from __future__ import annotations

import argparse
import copy
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter

from gatekeeper.entrypoints.commands import cmd_enrol
from gatekeeper.errors import EnrolmentRefused
from gatekeeper.services.consent.enrol import enrol, enrol_staged, stage_reference
from gatekeeper.services.context import Context
from tests import imagegen
from tests.integration.helpers import EILEEN, TOM, people, person_row, users
from tests.integration.test_web_roles import RecordingJobs, signed_in


def _tom() -> Image.Image:
    return imagegen.load(TOM)


def two_faces() -> bytes:
    eileen = imagegen.load(EILEEN).crop((120, 20, 330, 230))
    canvas, _ = imagegen.row_of_faces([_tom(), eileen], height=380)
    return imagegen.jpeg(canvas)


def tiny_face() -> bytes:
    """The portrait shrunk so its face is about 25 px wide, on a larger plain canvas."""
    tom = _tom()
    small = tom.resize((tom.width // 16, tom.height // 16), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (400, 400), (120, 130, 140))
    canvas.paste(small, (150, 150))
    return imagegen.jpeg(canvas)


def blurred_face() -> bytes:
    return imagegen.jpeg(_tom().filter(ImageFilter.GaussianBlur(12)))


def blank() -> bytes:
    return imagegen.jpeg(Image.new("RGB", (300, 300), (90, 90, 90)))


@pytest.fixture
def pupil(ctx):
    people(ctx, person_row("TOM"))
    return "TOM"


def refusal(ctx, data: bytes) -> str:
    with pytest.raises(EnrolmentRefused) as refused:
        enrol(ctx=ctx, external_id="TOM", photos=[("p.jpg", data)])
    ((name, why),) = refused.value.refusals
    assert name == "p.jpg" and why in str(refused.value)
    return why


def test_each_kind_of_refusal_says_why_and_what_to_do(ctx, pupil):
    assert refusal(ctx, blank()).startswith("no face found: use a photo of the pupil's face")
    assert refusal(ctx, two_faces()) == ("two faces: crop the photo to the pupil alone (one face) "
                                         "and enrol it again")
    small = refusal(ctx, tiny_face())
    assert small.startswith("face too small (") and "px wide; at least 40 px needed)" in small
    assert "use a closer photo" in small
    assert refusal(ctx, blurred_face()).startswith("face too blurred: use a sharp")


def test_a_turned_face_is_refused_as_such(ctx, pupil):
    engine = copy.copy(ctx.faces)  # the same models; only the yaw gate made strict
    engine.options = replace(engine.options, max_yaw=0.0)
    strict = Context(ctx.settings, stores=ctx.stores, faces=engine)
    with pytest.raises(EnrolmentRefused) as refused:
        enrol(ctx=strict, external_id="TOM", photos=[("p.jpg", TOM.read_bytes())])
    assert refused.value.refusals == (
        ("p.jpg", "face too turned: use a photo of the pupil looking at the camera"),)


def test_every_refused_photo_is_named_and_nothing_enrolled(ctx, pupil):
    photos = [("good.jpg", TOM.read_bytes()), ("pair.jpg", two_faces()),
              ("soft.jpg", blurred_face())]
    with pytest.raises(EnrolmentRefused) as refused:
        enrol(ctx=ctx, external_id="TOM", photos=photos)
    assert [name for name, _ in refused.value.refusals] == ["pair.jpg", "soft.jpg"]
    assert "nothing was enrolled (2 of 3 photos refused)" in str(refused.value)
    assert enrol(ctx=ctx, external_id="TOM", photos=photos[:1]) == 1  # nothing was kept before


def test_the_cli_prints_one_line_per_refused_photo(ctx, pupil, tmp_path, capsys):
    paths = []
    for name, data in (("good.jpg", TOM.read_bytes()), ("pair.jpg", two_faces()),
                       ("blank.jpg", blank())):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    args = argparse.Namespace(external_id="TOM", photos=paths)
    assert cmd_enrol(args, ctx) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("gatekeeper: TOM: nothing was enrolled; 2 of 3 reference photo(s) "
                      "refused:")
    assert err[1] == ("  pair.jpg: two faces: crop the photo to the pupil alone (one face) and "
                      "enrol it again")
    assert err[2].startswith("  blank.jpg: no face found: ")
    args = argparse.Namespace(external_id="TOM", photos=paths[:1])
    assert cmd_enrol(args, ctx) == 0
    assert "1 face template(s) stored; three or more recent photos" in capsys.readouterr().out


def test_the_person_page_shows_why_a_reference_photo_was_refused(ctx):
    from web.app import create_app

    users(ctx)
    people(ctx, person_row("P1"))

    app = create_app(ctx.settings, Context(ctx.settings, stores=ctx.stores, faces=ctx.faces,
                                           jobs=RecordingJobs()))
    with TestClient(app):
        client, _token = signed_in(app, "dpo1")
        for data in (two_faces(), blurred_face()):
            key = stage_reference(ctx=ctx, external_id="P1", data=data, actor_id=None)
            assert enrol_staged(ctx=ctx, external_id="P1", key=key, actor_id=None) == "refused"
        page = client.get("/people/P1").text
    assert ("refused: two faces: crop the photo to the pupil alone (one face) and enrol it "
            "again") in page
    assert "refused: face too blurred: use a sharp, well-lit photo" in page
    assert "p.jpg" not in page and "reference:" not in page
