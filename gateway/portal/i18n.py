"""The portal's languages: Simplified Chinese by default, English on request.

Every text is a key of ``messages.yaml`` with both languages (a missing one fails loudly, so
no page half-translates). The choice is a cookie of its own, so it outlives the session and
holds before sign-in. Times are shown in China Standard Time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from functools import cache
from importlib.resources import files
from string import Formatter
from typing import Protocol

import yaml
from pydantic import TypeAdapter

from consent.purposes import LocalizedText

LANGUAGE_COOKIE = "portal_lang"
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "UTC+8")
SOURCE = files("gateway.portal") / "messages.yaml"


class Language(StrEnum):
    """The ``lang`` of a page (BCP 47) by its short code in URLs and the cookie."""

    ZH = "zh"
    EN = "en"

    @property
    def tag(self) -> str:
        return "zh-CN" if self is Language.ZH else "en"

    @property
    def other(self) -> Language:
        return Language.EN if self is Language.ZH else Language.ZH

    @classmethod
    def chosen(cls, code: str | None) -> Language:
        """The language ``code`` names; the default for anything else."""
        try:
            return cls(code or cls.ZH)
        except ValueError:
            return cls.ZH


class Localized(Protocol):
    """A text in both languages: purposes, consequences texts, catalog item names."""

    @property
    def zh(self) -> str: ...

    @property
    def en(self) -> str: ...


@cache
def messages() -> dict[str, LocalizedText]:
    document = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    return TypeAdapter(dict[str, LocalizedText]).validate_python(document)


@dataclass(frozen=True)
class Translator:
    """The texts of one language; templates call it as ``t("key", name=value)``."""

    language: Language

    def __call__(self, key: str, **params: object) -> str:
        text = self.text(messages()[key])
        fields = {field for _, field, _, _ in Formatter().parse(text) if field}
        if fields != set(params):
            raise KeyError(f"{key} takes {sorted(fields)}, not {sorted(params)}")
        return text.format(**params)

    def text(self, localized: Localized) -> str:
        return localized.zh if self.language is Language.ZH else localized.en

    def category(self, code: str) -> str:
        return self(f"category.{code}")

    def categories(self, codes: Iterable[str]) -> str:
        """Category names in a list, in the language's punctuation."""
        return self("list.separator").join(self.category(code) for code in codes)

    def code(self, prefix: str, code: str) -> str:
        """The text of ``prefix.code`` when there is one, else the code itself."""
        key = f"{prefix}.{code}"
        return self(key) if key in messages() else code

    def moment(self, at: datetime | None) -> str:
        if at is None:
            return "—"
        return at.astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
