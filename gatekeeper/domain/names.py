"""Names that must never be published: neutral file names, and caption / slug checks.

Matching ignores case, punctuation and possessives and splits hyphenated names, so "SMITH's",
"smith" and "Jones-Smith" all meet the family name "Smith".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from gatekeeper.domain.vocabulary import NameRule

_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"['’`]s\b", "", text)


def words(text: str) -> list[str]:
    """Lower-case words of `text`, accents folded, possessive 's dropped, hyphens split."""
    return _WORD.findall(_fold(text))


def name_words(name: str) -> set[str]:
    """The words a name can appear as: "O'Neill" -> {neill, oneill}; "Jones-Smith" -> {jones, smith,
    jonessmith}. Single letters are dropped (they would match any initial)."""
    parts = {w for w in words(name) if len(w) > 1}
    joined = "".join(words(name))
    return parts | ({joined} if len(joined) > 1 else set())


def slugify(text: str) -> str:
    """'Sports Day 2026!' -> 'sports-day-2026'."""
    slug = "-".join(words(text))
    return slug[:60].strip("-") or "event"


def names_found(text: str, people: Iterable[tuple[str, str]], rule: NameRule) -> list[str]:
    """Reasons why `text` breaks the names `rule` (empty list = fine).

    NO_FAMILY_NAME (online captions, every file name): no family name and no full name of
    anyone, ever. NO_FULL_NAME (display and print captions): no full names.
    Reasons say which kind of name was found, never the name itself (they may be logged).
    """
    present = set(words(text))
    reasons: set[str] = set()
    for given, family in people:
        family_words = name_words(family)
        given_words = name_words(given)
        if family_words and family_words & present and given_words & present:
            reasons.add("a full name")
        elif rule is NameRule.NO_FAMILY_NAME and family_words and family_words & present:
            reasons.add("a family name")
    return sorted(reasons)
