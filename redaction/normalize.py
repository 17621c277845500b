"""Text normalization before the Art. 62 para. 1 screen matches anything.

What a careless clerk or an evasive writer does to a word should not hide it:

1. NFKC (full-width letters and digits become ASCII, compatibility forms are folded);
2. invisible characters are removed: format characters (zero-width space and joiners, word
   joiner, soft hyphen, bidirectional marks, BOM), combining marks left over after NFKC and
   variation selectors;
3. ``camelCase`` is split (``bloodType`` is ``blood type``), then case is folded;
4. traditional Chinese becomes simplified (OpenCC ``t2s``);
5. ``_ - . / \\ * · • | ~`` and runs of white space become one space; a space next to a Chinese
   character is removed (Chinese has no spaces between words: ``糖 尿 病`` is ``糖尿病``);
6. single Latin letters spelled out with spaces (``c a n c e r``, ``H.I.V.``) are joined.

Homoglyphs (a Cyrillic ``а`` for a Latin ``a``) and pinyin spellings are not folded.

The same function normalizes the lexicon's terms, so a term and the text meet in one form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# Full-width ASCII and the ideographic space, NFKC's most frequent work in Chinese text (，：（）),
# folded by a table first: full NFKC then runs only on what remains.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CJK = "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s_\-./\\*·•|~]+")
_SPACE_BY_CJK = re.compile(rf" (?:(?=[{_CJK}])|(?<=[{_CJK}] ))")
# A run starts with neither "a" nor "i", the one-letter words: "a c a n c e r" is "a cancer".
_SPELLED_OUT = re.compile(r"(?<![a-z0-9])(?![ai] )[a-z](?: [a-z](?![a-z0-9])){2,}")
_SPELLED_OUT_HINT = re.compile(r" [a-z] [a-z] ")  # a cheap scan: most texts spell nothing out


def _invisible_ranges() -> str:
    """A character class of every invisible character (see the module's docstring)."""
    invisible = [
        code for code in range(0x10000) if unicodedata.category(chr(code)) in _INVISIBLE_CATEGORIES
    ]
    invisible += [*range(0xE0000, 0xE0080), *range(0xE0100, 0xE01F0)]  # tags, selectors
    ranges: list[tuple[int, int]] = []
    for code in invisible:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(
        f"\\U{start:08x}" if start == end else f"\\U{start:08x}-\\U{end:08x}"
        for start, end in ranges
    )


_INVISIBLE = re.compile(f"[{_invisible_ranges()}]")


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


@cache
def _traditional() -> re.Pattern[str]:
    """The characters OpenCC changes on their own: a text with none of them is left as it is
    (a cheap scan spares the conversion of most simplified text)."""
    characters = "".join(chr(code) for code in range(0x3400, 0xA000))
    converted = _to_simplified().convert(characters)
    changed = {a for a, b in zip(characters, converted, strict=True) if a != b}
    return re.compile(f"[{''.join(sorted(changed))}]")


def _joined(match: re.Match[str]) -> str:
    return match.group().replace(" ", "")


def normalize(text: str) -> str:
    """``text`` in the one form the screen matches on (see the module's docstring)."""
    if text.isascii():
        text = _SEPARATORS.sub(" ", _CAMEL_CASE.sub(" ", text).lower())
    else:
        if not unicodedata.is_normalized("NFKC", text):
            text = text.translate(_FULL_WIDTH)
            if not unicodedata.is_normalized("NFKC", text):
                text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub("", text)
        text = _CAMEL_CASE.sub(" ", text).casefold()
        if _traditional().search(text):
            text = _to_simplified().convert(text)
        text = _SEPARATORS.sub(" ", text)
        if " " in text:
            text = _SPACE_BY_CJK.sub("", text)
    if " " in text and _SPELLED_OUT_HINT.search(f" {text} "):
        text = _SPELLED_OUT.sub(_joined, text)
    return text.strip()
