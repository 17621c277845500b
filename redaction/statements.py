"""Art. 37 para. 2: what credit subjects provide themselves - statements, self-declarations and
pledges about a record of their own file, for whose veracity they answer.

A subject's statement is kept beside the record it concerns and served with it in every channel
that serves the record, labelled as the subject's own (``by`` ``credit_subject``), never mixed
into the providing unit's fields. :func:`checked_statement` normalizes its text and refuses
control characters and any mention of a prohibited category (Art. 62 para. 1: the gateway does
not collect it from the subject either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from redaction.errors import InvalidFieldValue, ProhibitedInformation
from redaction.prohibited import find_prohibited

ARTICLE = "Art. 37 para. 2"
MAX_STATEMENT = 1000
BY_SUBJECT = "credit_subject"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class StatementKind(StrEnum):
    """The forms Art. 37 para. 2 names (agreements are made with others, not attached here)."""

    STATEMENT = "statement"
    SELF_DECLARATION = "self_declaration"
    PLEDGE = "pledge"


@dataclass(frozen=True, slots=True)
class SubjectStatement:
    """A statement as stored: its kind, text and the day it was made."""

    kind: StatementKind
    text: str
    made_on: date


def checked_statement(text: str) -> str:
    """The statement's text, stripped; raise if it is empty, too long or unlawful."""
    stripped = text.strip()
    if not 0 < len(stripped) <= MAX_STATEMENT or _CONTROL.search(stripped):
        raise InvalidFieldValue(
            f"a statement has 1 to {MAX_STATEMENT} characters of text", article=ARTICLE
        )
    category = find_prohibited(stripped)
    if category is not None:
        raise ProhibitedInformation(f"the statement mentions {category} information")
    return stripped
