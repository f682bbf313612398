"""Names that must never be published: neutral file names, and caption / slug checks.

Matching ignores case, punctuation and possessives and splits hyphenated names, so "SMITH's",
"smith" and "Jones-Smith" all meet the family name "Smith". The caption check (`names_found`)
also sees through tricks: compatibility forms (NFKC), invisible characters, homoglyphs from other
scripts (folded with the Unicode confusables data of `confusable-homoglyphs`), digits and
separators ("Obama2026", "O b a m a", "Оbama" with a Cyrillic O).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from confusable_homoglyphs.confusables import confusables_data

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


# --- Matching that survives tricks (captions and slugs) -------------------------------------------

_LETTER_RUN = re.compile(r"[^\W\d_]+")  # Unicode letters only: digits and separators split
_ALNUM_RUN = re.compile(r"[^\W_]+")
# Letters that neither decompose nor appear in the confusables data as a single Latin letter.
_TRANSLIT = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ŧ": "t"}
)
# Digits written for letters ("0bama", "L33"); "1" is read both as i and as l.
_LEET = (str.maketrans("013457", "oieast"), str.maketrans("013457", "oleast"))
_MIN_JOINED = 4  # joining whole words ("Ob ama") counts from this many letters
_MIN_SPELLED = 3  # joining single letters ("L e e") or reading digits as letters counts from 3
_MAX_NAME = 40


@lru_cache(maxsize=1)
def _confusable_map() -> dict[str, str]:
    """Each non-ASCII character that the Unicode confusables data says looks like one ASCII letter
    or digit, mapped to that (lower-case) letter or digit."""
    def ascii_alnum(s: str) -> bool:
        return len(s) == 1 and s.isascii() and s.isalnum()

    found: dict[str, set[str]] = {}
    for key, glyphs in confusables_data.items():
        key = key.replace("\u200e", "")
        for glyph in glyphs:
            other = glyph["c"].replace("\u200e", "")
            if ascii_alnum(key) and len(other) == 1 and not other.isascii():
                found.setdefault(other, set()).add(key.lower())
            elif ascii_alnum(other) and len(key) == 1 and not key.isascii():
                found.setdefault(key, set()).add(other.lower())
    # Prefer a letter over a digit should a character ever look like both.
    return {ch: sorted(targets, key=lambda t: (t.isdigit(), t))[0] for ch, targets in found.items()}


def _strip_marks(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))


def _split_case(text: str) -> str:
    """Split "TeamObama" into "Team Obama" (a lower-case letter followed by an upper-case one)."""
    out: list[str] = []
    prev = ""
    for ch in text:
        if prev.islower() and ch.isupper():
            out.append(" ")
        out.append(ch)
        prev = ch
    return "".join(out)


def skeleton(text: str, split_case: bool = False) -> str:
    """`text` as the letters it shows: NFKC, invisible format characters (zero-width spaces, soft
    hyphens, direction marks) dropped, accents dropped, case folded, homoglyphs from other
    scripts folded to the ASCII letter they imitate, possessive 's dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _strip_marks(text)
    if split_case:
        text = _split_case(text)
    confusable = _confusable_map()
    text = "".join(confusable.get(ch, ch) for ch in text.casefold())
    text = _strip_marks(text).translate(_TRANSLIT)
    return re.sub(r"['’`]s\b", "", text)


@lru_cache(maxsize=65536)
def match_keys(name: str) -> frozenset[str]:
    """The words a roll name is looked for as (see `name_words`), through the same folding as
    captions: "O'Neill" -> {neill, oneill}; "Jones-Smith" -> {jones, smith, jonessmith}."""
    parts = _LETTER_RUN.findall(skeleton(name))
    keys = {p for p in parts if len(p) > 1}
    joined = "".join(parts)
    return frozenset(keys | ({joined} if len(joined) > 1 else set()))


def _joins(tokens: list[str], into: set[str]) -> None:
    """Every run of consecutive tokens joined: "o b a m a" -> "obama", "ob ama" -> "obama"."""
    for i in range(len(tokens)):
        joined = tokens[i]
        single = len(tokens[i]) == 1
        for j in range(i + 1, len(tokens)):
            joined += tokens[j]
            single = single and len(tokens[j]) == 1
            if len(joined) > _MAX_NAME:
                break
            if len(joined) >= (_MIN_SPELLED if single else _MIN_JOINED):
                into.add(joined)


# Right-to-left controls (override, embedding, isolate, marks) can make "amabO" display as "Obama".
_RTL_CONTROLS = frozenset("\u202b\u202e\u2067\u200f\u061c")


def caption_words(text: str) -> set[str]:
    """Every word a reader could see in `text`, for matching against `match_keys`."""
    found = _caption_words(text)
    if _RTL_CONTROLS & set(text):  # what a reader sees may run backwards: read it both ways
        found |= _caption_words(text[::-1])
    return found


def _caption_words(text: str) -> set[str]:
    folded = skeleton(text, split_case=True)
    tokens = _LETTER_RUN.findall(folded)
    found = set(tokens)
    _joins(tokens, found)
    for leet in _LEET:
        for run in _ALNUM_RUN.findall(folded):
            if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
                found.update(t for t in _LETTER_RUN.findall(run.translate(leet)) if len(t) >= _MIN_SPELLED)
        leet_tokens = _LETTER_RUN.findall(folded.translate(leet))
        _joins(leet_tokens, found)
    return found


def names_found(text: str, people: Iterable[tuple[str, str]], rule: NameRule) -> list[str]:
    """Reasons why `text` may not be published under `rule` (empty list = fine).

    NO_FAMILY_NAME (online captions, every file name): no family name and no full name of anyone,
    ever; NO_FULL_NAME (display and print captions): no full names. Reasons say which kind of
    name was found, never the name itself (they may be logged).

    Tricks do not help: the text is NFKC-normalised, invisible format characters and accents are
    dropped, homoglyphs from other scripts are folded to the Latin letters they imitate
    ("Оbama" in Cyrillic), digits and separators split words ("Obama2026"), spaced or split
    letters are joined ("O b a m a", "Ob-ama"), joined words are split at case changes
    ("TeamObama") and digits standing for letters are read as letters ("0bama"). Only names on
    the roll are looked for, so ordinary words are never reasons on their own.
    """
    present = caption_words(text)
    family_rule = rule is NameRule.NO_FAMILY_NAME
    reasons: set[str] = set()
    for given, family in people:
        family_words = match_keys(family)
        given_words = match_keys(given)
        if family_words and family_words & present and given_words & present:
            reasons.add("a full name")
        elif family_rule and family_words and family_words & present:
            reasons.add("a family name")
    return sorted(reasons)


def slug_names_someone(slug: str, people: Iterable[tuple[str, str]]) -> bool:
    """Whether a slug meant for a file name carries anyone's family (or full) name. File names
    never carry names on any channel, so this applies the family-name rule whatever the channel:
    "smith-leavers-assembly" is refused for print and display as well as online."""
    return bool(names_found(slug.replace("-", " "), people, NameRule.NO_FAMILY_NAME))
