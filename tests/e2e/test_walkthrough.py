"""The walk-through (docs/reference/cli.md), end to end through the real `gatekeeper` command
on a temporary home.

People: A consented for online; B not consented; C without biometric consent; D safeguarding-
flagged; E a leaver past retention; F a leaver inside retention (consent to retain).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gatekeeper.domain.retention import academic_year
from tests import imagegen
from tests.oracles import exiftool_groups, faces_in_region

pytestmark = pytest.mark.slow

PEOPLE = {  # key: (external id, given, family, identity folder, enrol photos, event photo)
    "A": ("UPN-A", "Amara", "Okafor", "barack_obama",
          ["face_recognition__examples_obama-720p.jpg", "face_recognition__obama_obama.jpg"],
          "face_recognition__test_obama1.jpg"),
    "B": ("UPN-B", "Ben", "Hartley", "kit_harington",
          ["face_recognition__kit_harington_john1.jpeg", "face_recognition__kit_harington_john2.jpeg"],
          "face_recognition__test_johnsnow_test1.jpg"),
    "C": ("UPN-C", "Chloe", "Marsh", "deepface_person_34", [], "deepface__dataset_img34.jpg"),
    "D": ("UPN-D", "Dylan", "Price", "jack_dorsey",
          ["deepface__dataset_img16.jpg", "deepface__dataset_img17.jpg"],
          "deepface__dataset_img61.jpg"),
    "E": ("UPN-E", "Ella", "Quinn", "george_clooney",
          ["deepface__dataset_img38.jpg", "deepface__dataset_img39.jpg"],
          "deepface__dataset_img40.jpg"),
    "F": ("UPN-F", "Finn", "Rowe", "angelina_jolie",
          ["deepface__dataset_img2.jpg", "deepface__dataset_img4.jpg"],
          "deepface__dataset_img10.jpg"),
}


class Cli:
    def __init__(self, home: Path, cwd: Path, database_url: str | None = None) -> None:
        self.env = {**os.environ, "GATEKEEPER_HOME": str(home)}
        if database_url:
            self.env["GATEKEEPER_DATABASE_URL"] = database_url
        self.cwd = cwd

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "gatekeeper", *args], cwd=self.cwd,
                              env=self.env, capture_output=True, text=True, timeout=600)
        if ok and proc.returncode != 0:
            raise AssertionError(f"gatekeeper {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
        return proc

    def json(self, *args: str) -> dict | list:
        return json.loads(self(*args, "--json").stdout)


def people_csv(today: date, leavers: bool) -> str:
    rows = ["external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
            "biometric_consent,safeguarding_no_photo"]
    for key, (ext, given, family, *_rest) in PEOPLE.items():
        left = ""
        if leavers and key == "E":
            left = (today - timedelta(days=400)).isoformat()
        if leavers and key == "F":
            left = (today - timedelta(days=60)).isoformat()
        bio = "no" if key == "C" else "yes"
        flag = "yes" if key == "D" else "no"
        rows.append(f"{ext},{given},{family},pupil,Year 5,2020-09-01,{left},{bio},{flag}")
    return "\n".join(rows) + "\n"


def consent_csv(today: date) -> str:
    year = academic_year(today)
    rows = ["channel,external_id,academic_year,granted,recorded_on,evidence"]  # any column order
    for key in "ACDEF":
        rows.append(f"online,UPN-{key},{year},yes,{today.replace(day=1) - timedelta(days=30)},form {key}")
    rows.append(f"online,UPN-B,{year},no,{today - timedelta(days=40)},form B")
    rows.append(f"retain,UPN-F,{year},yes,{today - timedelta(days=40)},form F")
    return "\n".join(rows) + "\n"


def test_walkthrough(tmp_path, faces_dir, face_engine, database_url):
    today = date.today()
    cli = Cli(tmp_path / "home", tmp_path,
              None if database_url.startswith("sqlite") else database_url)
    out = cli("init").stdout
    admin_password = out.split("password: ")[1].split()[0]
    assert len(admin_password) >= 15
    assert "up to date" in cli("init").stdout  # idempotent

    (tmp_path / "pw").write_text("office-password-1\n")
    cli("users", "add", "office1", "--role", "office", "--password-file", str(tmp_path / "pw"))
    cli("users", "add", "editor1", "--role", "editor", "--password-file", str(tmp_path / "pw"))
    cli("users", "add", "dpo1", "--role", "dpo", "--password-file", str(tmp_path / "pw"))

    (tmp_path / "people.csv").write_text(people_csv(today, leavers=False))
    (tmp_path / "consent.csv").write_text(consent_csv(today))
    assert "6 created" in cli("people", "import", str(tmp_path / "people.csv")).stdout
    assert "6 unchanged" in cli("people", "import", str(tmp_path / "people.csv")).stdout
    assert "7 created" in cli("consent", "import", str(tmp_path / "consent.csv")).stdout
    assert "7 unchanged" in cli("consent", "import", str(tmp_path / "consent.csv")).stdout
    cli("devices", "add", "--make", "Canon", "--model", "EOS 250D", "--serial", "0123456789",
        "--label", "Office camera")

    people_dir = faces_dir / "people"
    for ext, _g, _f, folder, enrol_photos, _event in PEOPLE.values():
        if enrol_photos:
            cli("enrol", ext, *[str(people_dir / folder / p) for p in enrol_photos])
    c_photo = people_dir / "deepface_person_34" / "deepface__dataset_img35.jpg"
    refused = cli("enrol", "UPN-C", str(c_photo), ok=False)
    assert refused.returncode == 1 and "no biometric consent" in refused.stderr

    def face(key):
        return imagegen.load(people_dir / PEOPLE[key][3] / PEOPLE[key][5])

    school = imagegen.exif_bytes()
    upload = tmp_path / "upload"
    upload.mkdir()
    group, tiles = imagegen.row_of_faces([face("A"), face("B"), face("C")])
    (upload / "Amara Okafor and friends.jpg").write_bytes(imagegen.jpeg(group, school))
    safeguarded = imagegen.row_of_faces([face("D"), face("A")])[0]
    (upload / "p2.jpg").write_bytes(imagegen.jpeg(safeguarded, school))
    leavers, leaver_tiles = imagegen.row_of_faces([face("E"), face("F")])
    (upload / "p3.jpg").write_bytes(imagegen.jpeg(leavers, school))
    (upload / "p4.jpg").write_bytes(imagegen.jpeg(imagegen.row_of_faces([face("E")])[0], school))
    phone = imagegen.exif_bytes(make="Apple", model="iPhone 15", serial="PHONE123")
    (upload / "p5.jpg").write_bytes(imagegen.jpeg(imagegen.row_of_faces([face("A")])[0], phone))
    dup = tmp_path / "dup.jpg"
    dup.write_bytes((upload / "p4.jpg").read_bytes())
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes((upload / "p4.jpg").read_bytes()[:5000])
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo")

    res = cli("ingest", str(upload), str(dup), str(corrupt), str(notes), "--event",
              "Sports Day 2026", "--by", "office1", ok=False)
    assert res.returncode == 1  # some files were rejected...
    lines = res.stdout.splitlines()
    assert sum("accepted photo" in line for line in lines) == 4  # ...but the batch went on
    assert any("p5.jpg: held photo 5" in line for line in lines)
    assert any("dup.jpg: duplicate photo 4" in line for line in lines)
    assert any("corrupt.jpg: rejected: corrupt or truncated" in line for line in lines)
    assert any("notes.jpg: rejected: not a photo or video Gatekeeper takes" in line
               for line in lines)
    assert "2 of 8 file(s) rejected" in res.stderr and "notes.jpg" in res.stderr

    assert cli("scan").stdout.count(": ") == 4  # the held photo is not scanned
    cli("photos", "release", "5", "--by", "office1", ok=False)  # only a dpo releases
    cli("photos", "release", "5", "--by", "dpo1")
    cli("scan")

    p1 = cli.json("photos", "show", "1")
    assert p1["provenance"]["verdict"] == "school_device"
    assert p1["status"] == "awaiting_review"
    persons = sorted(f["person"] or "-" for f in p1["faces"])
    assert persons == ["-", "UPN-A", "UPN-B"], p1["faces"]
    assert len(p1["channels"]["online"]["shown_faces"]) == 1
    p2 = cli.json("photos", "show", "2")
    assert p2["status"] == "blocked" and "safeguarding" in p2["status_reason"]
    assert cli.json("photos", "show", "5")["provenance"]["verdict"] == "unregistered_device"
    listed = cli.json("photos", "list", "--status", "awaiting_review")
    assert [p["id"] for p in listed] == [1, 3, 4, 5]

    denied = cli("approve", "1", "--channel", "online", "--by", "office1", ok=False)
    assert denied.returncode == 1 and "editor" in denied.stderr
    cli("users", "add", "both1", "--role", "office,editor", "--password-file", str(tmp_path / "pw"))
    cli("ingest", str(people_dir / "eric_clapton" / "openface__examples_clapton-1.jpg"),
        "--event", "Sports Day 2026", "--by", "both1")  # held: no camera data
    cli("photos", "release", "6", "--by", "dpo1")
    cli("scan")
    own = cli("approve", "6", "--channel", "online", "--by", "both1", ok=False)
    assert own.returncode == 1 and "uploaded by both1" in own.stderr
    blocked = cli("approve", "2", "--channel", "online", "--by", "editor1", ok=False)
    assert blocked.returncode == 1
    cli("approve", "1", "3", "4", "--channel", "online", "--by", "editor1")

    out = cli("publish", "--channel", "online").stdout
    assert "3 photo(s) published" in out
    p1 = cli.json("photos", "show", "1")
    [pub] = p1["publications"]
    published = Path(pub["location"])
    assert published.parent == tmp_path / "home" / "public" / "online"
    assert re.fullmatch(r"sports-day-2026-0001-[0-9a-f]{10}\.jpg", published.name)
    assert "amara" not in published.name.lower()
    data = published.read_bytes()
    assert exiftool_groups(published) <= {"ExifTool", "File", "JFIF", "Composite", "System"}
    for planted in (b"Canon", b"0123456789", b"EOS", b"Exif", b"Amara"):
        assert planted not in data

    # faces that must be covered are covered; the shown face is untouched and still A
    out_img = Image.open(published).convert("RGB")
    scale = out_img.width / group.width
    a_box, b_box, c_box = ([round(v * scale) for v in t] for t in tiles)
    assert faces_in_region(face_engine, out_img, b_box) == []
    assert faces_in_region(face_engine, out_img, c_box) == []
    [shown] = face_engine.find_faces(out_img.crop(a_box), look_sideways=False)
    [a_before] = [f for f in face_engine.find_faces(face("A"), look_sideways=False)
                  if f.encoding is not None]  # the portrait's face, not a speck covered in it
    assert np.linalg.norm(shown.encoding - a_before.encoding) < 0.3
    orig_tile = np.asarray(group.resize(out_img.size).crop(a_box), dtype=float)
    assert np.abs(np.asarray(out_img.crop(a_box), dtype=float) - orig_tile).mean() < 6
    assert cli("publish").stdout.strip().endswith("0 photo(s) published")  # idempotent

    # E and F leave; E is past retention, F inside it (with consent to retain)
    (tmp_path / "people2.csv").write_text(people_csv(today, leavers=True))
    out = cli("people", "import", str(tmp_path / "people2.csv")).stdout
    assert "2 updated" in out and "4 biometric templates deleted" in out

    p3_pub = Path(cli.json("photos", "show", "3")["publications"][0]["location"])
    p4_pub = Path(cli.json("photos", "show", "4")["publications"][0]["location"])
    assert p3_pub.exists() and p4_pub.exists()
    private = tmp_path / "home" / "private"
    before = sorted(p.relative_to(private) for p in private.rglob("*") if p.is_file())

    plan = cli.json("purge", "--dry-run", "--today", today.isoformat())
    assert plan["people"] == [5]
    assert plan["photos_to_delete"] == [4]
    assert plan["photos_to_cover"] == {"3": [5]}
    assert sorted(p.relative_to(private) for p in private.rglob("*") if p.is_file()) == before
    assert "Ella" not in cli("purge", "--dry-run").stdout

    cli("purge", "--apply", "--today", today.isoformat())
    p4 = cli.json("photos", "show", "4")
    assert p4["status"] == "purged" and p4["faces"] == []
    assert not p4_pub.exists()
    assert not p3_pub.exists()
    p3 = cli.json("photos", "show", "3")
    assert p3["publications"][0]["taken_down_reason"] == "retention"
    assert [f["person"] for f in p3["faces"] if f["person"]] == ["UPN-F"]
    assert [f["decided_by"] for f in p3["faces"]].count("purge") == 1
    after = sorted(p.relative_to(private) for p in private.rglob("*") if p.is_file())
    assert len(after) == len(before) - 2  # the original and its review copy
    # E is covered in the stored original of photo 3; F is still there
    [stored_key] = [a for a in after if a not in before]  # covered under a new key
    stored = Image.open(private / stored_key)
    e_box, f_box = leaver_tiles
    [e_before] = [f for f in face_engine.find_faces(face("E"), False) if f.box.width > 200]
    for f in face_engine.find_faces(stored.convert("RGB").crop(e_box), look_sideways=False):
        assert f.encoding is None or np.linalg.norm(f.encoding - e_before.encoding) > 0.6
    assert len(face_engine.find_faces(stored.convert("RGB").crop(f_box), look_sideways=False)) == 1
    assert published.exists()  # photo 1 was not touched
    assert cli.json("purge", "--dry-run", "--today", today.isoformat())["people"] == []
    assert "intact" in cli("audit").stdout
