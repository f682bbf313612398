"""Names carrying line or paragraph separators, zero-width or direction marks, bidirectional
overrides or isolates are refused in people.csv and contacts.csv, naming the row and column: they
make a name read, sort, match or print differently from what it is."""

from __future__ import annotations

import pytest

from gatekeeper.adapters.mis_csv import ImportRejected, parse_contacts, parse_people

HIDDEN = ["\u2028", "\u2029", *map(chr, range(0x200B, 0x2010)), *map(chr, range(0x202A, 0x202F)),
          *map(chr, range(0x2066, 0x206A))]
PEOPLE = ("external_id,given_name,family_name,kind,year_group,joined_on,left_on,"
          "biometric_consent,safeguarding_no_photo\n"
          "A1,Amy,Okafor,pupil,Year 5,2020-09-01,,yes,no\n")
CONTACTS = "contact_id,external_id,given_name,family_name,email,parental_responsibility,no_contact\n"


@pytest.mark.parametrize("ch", HIDDEN, ids=lambda ch: f"U+{ord(ch):04X}")
@pytest.mark.parametrize("where", ["inside", "at the end"])
def test_people_csv_refuses_hidden_characters_in_names(ch, where):
    name = f"Jo{ch}nes" if where == "inside" else f"Jones{ch}"
    data = PEOPLE + f"B2,Ben,{name},pupil,Year 5,2020-09-01,,yes,no\n"
    with pytest.raises(ImportRejected, match=rf"row 3, column family_name: .*U\+{ord(ch):04X}"):
        parse_people(data.encode())


@pytest.mark.parametrize("ch", ["\u202e", "\u2028", "\u200b", "\u2067"])
def test_contacts_csv_refuses_hidden_characters_in_names(ch):
    data = (CONTACTS + "C1,A1,Sara,Okafor,sara@example.org,yes,no\n"
            f"C2,A1,Mo{ch},Okafor,mo@example.org,yes,no\n")
    with pytest.raises(ImportRejected, match=r"row 3, column given_name"):
        parse_contacts(data.encode(), {"A1"})


def test_ordinary_names_still_pass():
    data = PEOPLE + "B2,Zoë,O'Neill-Nguyễn,pupil,Year 5,2020-09-01,,yes,no\n"
    assert [r.family_name for r in parse_people(data.encode())] == ["Okafor", "O'Neill-Nguyễn"]
