"""Art. 62 para. 1: the categories of information that are never collected about natural persons.

Religious faith, genetics, fingerprints (and every other biometric that identifies by the
body), blood type, illnesses or medical history. This module only *recognizes* them in text
(catalog names, field names, free-text content), in Chinese and English; the catalog loader,
the ingestion check and the redaction engine decide what to do.

The terms are data: :mod:`redaction.lexicon` (versioned files with their sources). Matching:

1. the text is normalized (:func:`redaction.normalize.normalize`: NFKC, invisible characters,
   case, traditional to simplified, spaces inside words);
2. one Aho-Corasick automaton (``pyahocorasick``) finds every term and every benign phrase in
   one pass; a term that begins or ends with a Latin letter or a digit matches only as a whole
   word on that side (``cancer`` does not match in ``cancellation``), an English term may take
   a plural ``s`` or ``es``;
3. a term is benign when it lies inside a benign phrase (``医疗废物``, ``good faith``), inside
   a benign context (``以…为由``), or is followed at once by a benign suffix that makes it an
   institution's or a product's name (``肿瘤医院``, ``血型试剂``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

import ahocorasick

from redaction.lexicon import BENIGN, BenignKind, LexiconFile, LexiconInvalid, lexicon_files
from redaction.normalize import normalize


class ProhibitedCategory(StrEnum):
    RELIGIOUS_FAITH = "religious_faith"
    GENETICS = "genetics"
    FINGERPRINTS = "fingerprints"
    BLOOD_TYPE = "blood_type"
    ILLNESS_OR_MEDICAL_HISTORY = "illness_or_medical_history"


_WORD = re.compile(r"[a-z0-9]")
_PLURAL = ("s", "es")
_CLAUSE = "[^,;:!?。，；：！？()（）]"
_GAPS = (f"{_CLAUSE}{{0,8}}", f"{_CLAUSE}{{0,24}}")  # Chinese characters, English words


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the automaton stores for one normalized key: the categories it is a term of, and
    whether it is a benign phrase or the anchor of benign contexts."""

    length: int
    word_start: bool
    word_end: bool
    categories: tuple[ProhibitedCategory, ...] = ()
    benign: bool = False
    contexts: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """A term of ``category`` at ``start`` of the normalized text (never the text itself)."""

    start: int
    category: ProhibitedCategory


def _is_word(character: str) -> bool:
    return _WORD.fullmatch(character) is not None


def _bounded(text: str, start: int, end: int, entry: _Entry) -> int | None:
    """The end of a whole-word match of ``entry`` at ``start``, or None."""
    if entry.word_start and start > 0 and _is_word(text[start - 1]):
        return None
    if not entry.word_end or end == len(text) or not _is_word(text[end]):
        return end
    for plural in _PLURAL:
        after = end + len(plural)
        if text.startswith(plural, end) and (after == len(text) or not _is_word(text[after])):
            return after
    return None


def _context(text: str) -> tuple[str, re.Pattern[str]]:
    """A benign context's anchor (its longest fixed piece) and its regular expression."""
    pieces = [normalize(piece) for piece in text.split("…")]
    english = any(_is_word(character) for character in "".join(pieces))
    pattern = _GAPS[english].join(map(re.escape, pieces))
    if english and not pieces[-1]:
        pattern += "[a-z0-9]*"  # a gap at the end takes the word it stops in
    if _is_word(pieces[0][:1]):
        pattern = rf"(?<![a-z0-9]){pattern}"
    if _is_word(pieces[-1][-1:]):
        pattern = rf"{pattern}(?:e?s)?(?![a-z0-9])"
    return max(pieces, key=len), re.compile(pattern)


@dataclass
class _Keys:
    """The automaton's keys as the lexicon files give them, before compilation."""

    terms: dict[str, list[ProhibitedCategory]] = field(default_factory=dict)
    phrases: set[str] = field(default_factory=set)
    contexts: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    suffixes: set[str] = field(default_factory=set)

    def add(self, lexicon: LexiconFile) -> None:
        if lexicon.category != BENIGN:
            category = ProhibitedCategory(lexicon.category)
            for term, _group in lexicon.entries:
                categories = self.terms.setdefault(normalize(term), [])
                if category not in categories:
                    categories.append(category)
            return
        for kind, text in lexicon.entries:
            if kind == BenignKind.PHRASE:
                self.phrases.add(normalize(text))
            elif kind == BenignKind.CONTEXT:
                anchor, pattern = _context(text)
                self.contexts.setdefault(anchor, []).append(pattern)
            elif kind == BenignKind.SUFFIX:
                self.suffixes.add(normalize(text))
            else:
                raise LexiconInvalid(f"{lexicon.name}: unknown kind '{kind}'")

    def entry(self, key: str) -> _Entry:
        return _Entry(
            len(key),
            _is_word(key[0]),
            _is_word(key[-1]),
            tuple(self.terms.get(key, ())),
            key in self.phrases,
            tuple(self.contexts.get(key, ())),
        )


class Screen:
    """The compiled lexicon: :meth:`findings` of any text."""

    def __init__(self, files: Iterable[LexiconFile]) -> None:
        files = tuple(files)
        keys = _Keys()
        for lexicon in files:
            keys.add(lexicon)
        found = {category for categories in keys.terms.values() for category in categories}
        if found != set(ProhibitedCategory):
            raise LexiconInvalid("the lexicon has no terms for some prohibited category")
        self._automaton = ahocorasick.Automaton()
        for key in keys.terms.keys() | keys.phrases | keys.contexts.keys():
            self._automaton.add_word(key, keys.entry(key))
        self._automaton.make_automaton()
        self._suffixes: dict[str, tuple[str, ...]] = {}
        for suffix in sorted(keys.suffixes):
            self._suffixes[suffix[0]] = (*self._suffixes.get(suffix[0], ()), suffix)
        self.term_count = len(keys.terms)
        self.version = " ".join(f"{lexicon.category}@{lexicon.version}" for lexicon in files)

    def _suffixed(self, text: str, end: int) -> bool:
        """Whether a benign suffix follows at ``end`` (after one space, in English)."""
        if text.startswith(" ", end):
            end += 1
        suffixes = self._suffixes.get(text[end : end + 1], ())
        return any(text.startswith(suffix, end) for suffix in suffixes)

    def findings(self, text: str) -> list[Finding]:
        """Every prohibited term in ``text`` that no benign context masks, in text order.

        A term followed by a benign suffix masks itself and every term inside it (``癌`` in
        ``癌症基金会``), not a longer term that takes the suffix in (``精神病院``)."""
        normalized = normalize(text)
        candidates: list[tuple[int, int, ProhibitedCategory]] = []
        benign: list[tuple[int, int]] = []
        contexts: set[re.Pattern[str]] = set()
        for last, entry in self._automaton.iter(normalized):
            if entry.contexts:  # an anchor; its patterns check their own word boundaries
                contexts.update(entry.contexts)
            start, end = last + 1 - entry.length, last + 1
            if entry.word_start or entry.word_end:
                bounded = _bounded(normalized, start, end, entry)
                if bounded is None:
                    continue
                end = bounded
            if entry.benign:
                benign.append((start, end))
            elif not entry.categories:
                continue
            elif self._suffixed(normalized, end):
                benign.append((start, end))
            else:
                candidates += [(start, end, category) for category in entry.categories]
        if not candidates:
            return []
        for pattern in contexts:
            benign += [found.span() for found in pattern.finditer(normalized)]
        return [
            Finding(start, category)
            for start, end, category in sorted(candidates)
            if not benign or not any(low <= start and end <= high for low, high in benign)
        ]


@cache
def screen() -> Screen:
    """The screen built from the lexicon shipped with the package."""
    return Screen(lexicon_files())


def prohibited_categories(text: str) -> tuple[ProhibitedCategory, ...]:
    """Every prohibited category ``text`` mentions, in the order they first occur."""
    found: dict[ProhibitedCategory, None] = {}
    for finding in screen().findings(text):
        found.setdefault(finding.category)
    return tuple(found)


def find_prohibited(text: str) -> ProhibitedCategory | None:
    """The first prohibited category ``text`` mentions, or None."""
    findings = screen().findings(text)
    return findings[0].category if findings else None
