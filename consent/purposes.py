"""The registry of purposes an establishment may ask a consent for (Art. 61(2): a consent is
for one stated purpose, limited in time and in uses - never a single lifetime authorization).

Each purpose says which catalog categories it may need, its maximum validity (days, never
above :data:`MAX_VALIDITY_DAYS`), its maximum number of inquiries, whether it is one-time
(exactly one inquiry) or periodic, and which kinds of subject it applies to. The seed
registry is ``purposes.yaml`` beside this module; categories are validated against the
catalog's category codes, which the caller passes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from consent.errors import Reason, RefusedRequestError
from consent.grants import SubjectKind

MAX_VALIDITY_DAYS = 365
"""The absolute cap on a consent's validity, whatever the purpose."""

SEED = files("consent") / "purposes.yaml"


class Frequency(StrEnum):
    ONE_TIME = "one_time"
    PERIODIC = "periodic"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Frozen):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Purpose(_Frozen):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")
    description: LocalizedText
    categories: frozenset[str] = Field(min_length=1)
    max_validity_days: int = Field(ge=1, le=MAX_VALIDITY_DAYS)
    max_uses: int = Field(ge=1)
    frequency: Frequency
    subject_kinds: frozenset[SubjectKind] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_time_means_one_use(self) -> Self:
        if self.frequency is Frequency.ONE_TIME and self.max_uses != 1:
            raise ValueError(f"{self.code}: a one-time purpose allows exactly one use")
        return self


class PurposeRegistry:
    """The purposes by code; every category one of the catalog's ``categories``."""

    def __init__(self, purposes: Iterable[Purpose], categories: frozenset[str]) -> None:
        self._purposes: dict[str, Purpose] = {}
        for purpose in purposes:
            unknown = purpose.categories - categories
            if unknown:
                raise ValueError(f"{purpose.code}: unknown categories {sorted(unknown)}")
            if purpose.code in self._purposes:
                raise ValueError(f"{purpose.code}: defined twice")
            self._purposes[purpose.code] = purpose

    def __iter__(self) -> Iterator[Purpose]:
        return iter(self._purposes.values())

    def get(self, code: str) -> Purpose:
        """The purpose ``code``; an unknown purpose refuses the request (Art. 61(2))."""
        purpose = self._purposes.get(code)
        if purpose is None:
            raise RefusedRequestError("unknown purpose", reason=Reason.UNKNOWN_PURPOSE)
        return purpose


def load_purposes(categories: frozenset[str], source: Traversable | Path = SEED) -> PurposeRegistry:
    """Load and validate a purposes YAML document (a ``purposes:`` list)."""
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("purposes"), list):
        raise ValueError("a purposes document is a mapping with a 'purposes' list")
    purposes = [Purpose.model_validate(entry) for entry in document["purposes"]]
    return PurposeRegistry(purposes, categories)
