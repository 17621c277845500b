"""The Art. 62 para. 1 lexicon: versioned data files, one per prohibited category, and the
benign contexts that mask a match.

Every ``*.tsv`` file here starts with a header of ``# key: value`` lines - ``category``,
``version``, ``sources`` and ``licence`` - then holds one entry per line:

* a category file (``religious_faith.tsv`` ...): ``term<TAB>group``, the group saying where the
  term comes from (an ICD-10 chapter, ``drug``, ``treatment``, ``practice`` ...);
* ``benign.tsv``: ``kind<TAB>text`` with three kinds of entry:

  - ``phrase``: a fixed phrase; a match that lies inside it is benign (``医疗废物``,
    ``疾病预防控制中心``, ``good faith``);
  - ``context``: a pattern where ``…`` stands for a short gap in the same clause - up to 8
    characters in a Chinese context, 24 in an English one, whose trailing gap finishes its
    word (``以…为由``: a pretext is no medical history; ``advertis…``);
  - ``suffix``: what makes a matched term the name of an institution or a product when it
    follows at once (``医院``: 肿瘤医院 is a hospital, ``试剂``: 血型试剂 a reagent).

Loading fails on a file without its header, an empty term, or a category file whose header
names another category: the screen never runs on a lexicon it did not fully read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

REQUIRED_HEADER = ("category", "version", "sources", "licence")
BENIGN = "benign"


class BenignKind(StrEnum):
    PHRASE = "phrase"
    CONTEXT = "context"
    SUFFIX = "suffix"


class LexiconInvalid(ValueError):
    """A lexicon file is malformed; the screen cannot be built from it."""


@dataclass(frozen=True)
class LexiconFile:
    """One file: its header and its entries, each a (first column, second column) pair."""

    name: str
    header: dict[str, str]
    entries: tuple[tuple[str, str], ...]

    @property
    def category(self) -> str:
        return self.header["category"]

    @property
    def version(self) -> str:
        return self.header["version"]


def _lines(source: Traversable) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            yield number, line.rstrip("\n")


def read_file(source: Traversable) -> LexiconFile:
    """Parse one lexicon file (see the module's docstring); raises :class:`LexiconInvalid`."""
    header: dict[str, str] = {}
    entries: list[tuple[str, str]] = []
    for number, line in _lines(source):
        if line.startswith("#"):
            key, colon, value = line[1:].partition(":")
            if colon and not entries and key.strip() in REQUIRED_HEADER:
                header[key.strip()] = value.strip()
            continue
        first, _tab, second = line.partition("\t")
        if not first.strip():
            raise LexiconInvalid(f"{source.name}:{number}: an entry without its text")
        entries.append((first.strip(), second.strip()))
    missing = [key for key in REQUIRED_HEADER if not header.get(key)]
    if missing:
        raise LexiconInvalid(f"{source.name}: the header lacks {', '.join(missing)}")
    if header["category"] != source.name.removesuffix(".tsv"):
        raise LexiconInvalid(f"{source.name}: the header names category {header['category']}")
    return LexiconFile(source.name, header, tuple(entries))


@cache
def lexicon_files() -> tuple[LexiconFile, ...]:
    """Every file of the lexicon shipped with the package, in name order."""
    folder = files(__name__)
    sources = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".tsv")),
        key=lambda entry: entry.name,
    )
    return tuple(read_file(source) for source in sources)
