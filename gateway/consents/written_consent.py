"""The separate written consent of Art. 62 para. 2-3: the consequences text the credit subject
reads for each restricted category, versioned in ``written_consent_texts.yaml``, and the
confirmation that becomes a :class:`consent.grants.WrittenConsent` - category, text version
and the time of the act.

A confirmation must name the current version: a subject who read an older text reads again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from consent.errors import Reason, WrittenConsentError
from consent.grants import WrittenConsent
from consent.purposes import LocalizedText
from redaction.catalog import RESTRICTED_CATEGORIES

SOURCE = files("gateway.consents") / "written_consent_texts.yaml"


class WrittenConsentTexts(BaseModel):
    """One consequences text per restricted category, under one version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=64)
    texts: dict[str, LocalizedText]

    @model_validator(mode="after")
    def _one_per_restricted_category(self) -> Self:
        if set(self.texts) != {category.value for category in RESTRICTED_CATEGORIES}:
            raise ValueError("one text per restricted category (Art. 62), and only those")
        return self


@dataclass(frozen=True)
class Confirmation:
    """The subject confirmed the consequences text ``text_version`` of ``category``."""

    category: str
    text_version: str


@cache
def written_consent_texts() -> WrittenConsentTexts:
    return WrittenConsentTexts.model_validate(yaml.safe_load(SOURCE.read_text(encoding="utf-8")))


def written_consents(
    confirmations: Iterable[Confirmation], now: datetime
) -> tuple[WrittenConsent, ...]:
    """The written consents of ``confirmations``, each signed ``now``; raises unless each
    confirms the current text of a restricted category."""
    texts = written_consent_texts()
    consents = []
    for confirmation in confirmations:
        if confirmation.category not in texts.texts or confirmation.text_version != texts.version:
            raise WrittenConsentError(
                "a written consent confirms the current consequences text of a restricted category",
                reason=Reason.WRITTEN_CONSENT_MISSING,
            )
        consents.append(WrittenConsent(confirmation.category, texts.version, now))
    return tuple(consents)
