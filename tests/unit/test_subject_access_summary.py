"""The subject access summary comes from the document templates: every value escaped, every
consent row, portal answer, photo and file listed."""

from __future__ import annotations

from gatekeeper.services.dpo.register import _summary_html

REGISTER = {
    "external_id": "UPN<1>", "given_name": "Ann", "family_name": "O'Neil & Co",
    "face_templates": [{}], "audit": [{}, {}],
    "consent_history": [
        {"academic_year": "2026/27", "kind": "online", "granted": True, "withdrawn_on": None,
         "recorded_on": "2026-09-03", "evidence": "<script>alert(1)</script>"},
        {"academic_year": "2026/27", "kind": "print", "granted": False, "withdrawn_on": "2026-10-01",
         "recorded_on": "2026-09-03", "evidence": "form 7"}],
    "portal_answers": [{"academic_year": "2026/27", "use": "display", "granted": False,
                        "by": "parent", "decided_at": "2026-09-10T08:15:00"}],
    "photos": [{"photo_id": 12, "event": "Sports day", "channels": {"online": "shown",
                                                                    "print": "covered"},
                "publications": [{}]}],
}


def test_summary_escapes_and_lists_everything():
    page = _summary_html(REGISTER, ["register.json", "photos/photo-000012.jpg"])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "UPN&lt;1&gt;" in page and "O&#39;Neil &amp; Co" in page
    assert "<td>granted</td>" in page and "<td>withdrawn</td>" in page
    assert "<td>refused</td>" in page and "2026-09-10 08:15" in page  # the portal answer
    assert "photo 12 (Sports day): online shown, print covered; 1 publication(s)" in page
    assert page.index("photos/photo-000012.jpg") < page.index("register.json")  # sorted
    assert "2 recorded event(s)" in page


def test_no_portal_section_without_answers():
    page = _summary_html({**REGISTER, "portal_answers": []}, [])
    assert "consent portal" not in page
