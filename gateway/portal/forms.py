"""The portal's forms as the consent service takes them.

An approval names the categories the citizen ticked and, for each restricted one among them
(Art. 62 para. 2-3), whether its separate written consent was confirmed against the text
version shown. Whether that is enough is the consent service's decision, as for the API; the
form only knows when to show the written-consent step first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form

from gateway.consents.service import RESTRICTED
from gateway.consents.written_consent import Confirmation
from gateway.validation import Identifier
from problems import InvalidInput

MAX_ITEMS = 32
Codes = Annotated[list[Identifier] | None, Form(max_length=MAX_ITEMS)]
Code = Annotated[Identifier, Form(max_length=64)]


class NoCategoryChosen(InvalidInput):
    title = "No category chosen"
    slug = "no-category-chosen"


@dataclass(frozen=True)
class ApprovalForm:
    categories: tuple[str, ...]
    confirmed: frozenset[str]
    text_version: str
    from_written_step: bool

    @property
    def restricted(self) -> tuple[str, ...]:
        """The restricted categories chosen, each needing its written consent."""
        return tuple(category for category in self.categories if category in RESTRICTED)

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        return tuple(category for category in self.restricted if category not in self.confirmed)

    def confirmations(self) -> list[Confirmation]:
        return [
            Confirmation(category, self.text_version)
            for category in self.restricted
            if category in self.confirmed
        ]


def approval_form(
    categories: Codes = None,
    written_consent: Codes = None,
    text_version: Code = "",
    step: Code = "",
) -> ApprovalForm:
    """The approval form; refuses one with no category (rejecting is the other button)."""
    chosen = tuple(dict.fromkeys(categories or []))
    if not chosen:
        raise NoCategoryChosen("choose at least one category, or reject the request")
    return ApprovalForm(
        categories=chosen,
        confirmed=frozenset(written_consent or []),
        text_version=text_version,
        from_written_step=step == "written-consent",
    )
