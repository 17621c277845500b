"""The characters text from outside may hold, one rule for every area.

Whatever enters the gateway - a request body, a form field, a path or query parameter, a claim
of a token it reads - is text a person or a program typed, never a terminal or a database
instruction. So:

* no **control character** (Unicode category Cc: NUL, ESC, DEL, the C1 range ...) and no
  lone **surrogate** (Cs, which no UTF-8 can carry): PostgreSQL refuses NUL outright, SQLite
  stores it, and either way it is nothing a citizen can read back. Free text may hold tab,
  line feed and carriage return (a multi-line reason), nothing else of the category;
* in an **identifier** (a username, a client id, a provider's record id, a claim), also no
  **format character** (Cf: U+202E right-to-left override, U+200B zero width space ...) and no
  line or paragraph separator: two identifiers that look alike must be alike.

:func:`unreadable` tells, :func:`refuse_unreadable` raises ``ValueError`` (the caller turns it
into its own error); neither repeats the value: it may be personal data.
"""

from __future__ import annotations

import re
import unicodedata

_ASCII_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_CONTROLS_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_CONTROLS = frozenset("\t\n\r")
_NEVER = frozenset({"Cc", "Cs"})
_NOT_IN_IDENTIFIERS = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})


def unreadable(value: str, *, single_line: bool) -> bool:
    """Whether ``value`` holds a character refused above; ``single_line``: the stricter rule of
    identifiers, codes and one-line text (no format character, no line break of any kind)."""
    if value.isascii():  # the common case, one scan
        pattern = _ASCII_CONTROLS if single_line else _ASCII_CONTROLS_BUT_LINES
        return pattern.search(value) is not None
    refused = _NOT_IN_IDENTIFIERS if single_line else _NEVER
    return any(
        unicodedata.category(char) in refused and (single_line or char not in _LINE_CONTROLS)
        for char in value
    )


def refuse_unreadable(value: str, *, single_line: bool) -> str:
    """``value`` unchanged, or ``ValueError`` naming the kind of character refused."""
    if not unreadable(value, single_line=single_line):
        return value
    if single_line:
        raise ValueError("control, format and line-break characters are not accepted here")
    raise ValueError("control characters are not accepted")
