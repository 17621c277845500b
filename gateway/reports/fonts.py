"""The report PDF's CJK fonts (Art. 39 para. 5), prepared once per process.

WeasyPrint embeds only the glyphs a PDF uses, but it cuts them out of the font it is given:
Debian's Noto Sans CJK SC is a 65,000-glyph collection, and cutting from it took a tenth of
every report. So the first report of a process cuts Noto Sans CJK SC (regular and bold) down
to the characters of GB 2312 - the 6,763 hanzi of everyday Chinese with its symbols - and the
Latin, punctuation and full-width forms around them (HarfBuzz's subsetter, under a second), into
a directory of its own; every report's PDF is cut from those. The template names the full
system font right after it, so a character outside GB 2312 (a rare hanzi in a name) is set in,
and embedded from, the full font: no character is ever lost. When the system font cannot be
found or cut, the template uses the full font alone - slower, the same PDF.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz

FAMILY = "Noto Sans CJK SC"
"""The system font (Debian: fonts-noto-cjk) every report is set in."""
WEIGHTS = {"normal": "Regular", "bold": "Bold"}
"""CSS font-weight -> the fontconfig style of the face that sets it."""
EXTRA_RANGES = (
    (0x20, 0x24F),  # Basic Latin, Latin-1, Latin Extended-A and -B
    (0x2000, 0x206F),  # General Punctuation
    (0x2100, 0x215F),  # Letterlike symbols, number forms (№, ℃, Ⅻ)
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0xFF00, 0xFFEF),  # Half-width and full-width forms
)
LOGGER = logging.getLogger(__name__)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Face:
    """A prepared face: the CSS ``font-weight`` it serves and its file."""

    weight: str
    path: Path


def report_faces() -> tuple[Face, ...]:
    """The prepared faces, built on the first call of the process; empty when unavailable."""
    with _LOCK:
        return _prepared()


@cache
def _prepared() -> tuple[Face, ...]:
    try:
        sources = {weight: _system_face(style) for weight, style in WEIGHTS.items()}
        directory = Path(tempfile.mkdtemp(prefix="gateway-report-fonts-"))
        atexit.register(_remove, directory, os.getpid())
        return tuple(
            _cut(path, index, directory / f"noto-sans-cjk-sc-gb2312-{weight}.otf", weight)
            for weight, (path, index) in sources.items()
        )
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        LOGGER.warning("report fonts not prepared, using the full %s: %s", FAMILY, exc)
        return ()


def _remove(directory: Path, builder: int) -> None:
    """At exit, the directory goes with the process that made it (not with a forked child)."""
    if os.getpid() == builder:
        shutil.rmtree(directory, ignore_errors=True)


def _system_face(style: str) -> tuple[Path, int]:
    """The file and collection index fontconfig resolves ``FAMILY`` of ``style`` to (fc-match
    comes with Pango's fontconfig)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise ValueError("fc-match (fontconfig) is not installed")
    query = [fc_match, "--format=%{family}\n%{style}\n%{file}\n%{index}", f"{FAMILY}:style={style}"]
    found = subprocess.run(  # noqa: S603 - fixed arguments, nothing from a request
        query, check=True, capture_output=True, text=True, timeout=10
    ).stdout.split("\n")
    if len(found) != 4 or FAMILY not in found[0].split(",") or style not in found[1].split(","):
        raise ValueError(f"fontconfig has no {FAMILY} {style}")
    return Path(found[2]), int(found[3])


def _cut(source: Path, index: int, target: Path, weight: str) -> Face:
    subset = uharfbuzz.SubsetInput()
    for codepoint in sorted(_characters()):
        subset.unicode_set.add(codepoint)
    face = uharfbuzz.subset(uharfbuzz.Face(uharfbuzz.Blob.from_file_path(source), index), subset)
    if face is None:
        raise ValueError(f"HarfBuzz could not subset {source}")
    target.write_bytes(face.blob.data)
    return Face(weight, target)


@cache
def _characters() -> frozenset[int]:
    """GB 2312's characters (rows 0xA1-0xF7, cells 0xA1-0xFE) and ``EXTRA_RANGES``."""
    characters = {c for start, end in EXTRA_RANGES for c in range(start, end + 1)}
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                characters.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(characters)
