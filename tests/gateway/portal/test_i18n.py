"""The portal's texts: both languages for every message, with the same placeholders."""

from __future__ import annotations

from datetime import UTC, datetime
from string import Formatter

import pytest

from gateway.portal.i18n import Language, Translator, messages


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field}


def test_every_message_has_the_same_placeholders_in_both_languages() -> None:
    assert {key: _fields(m.zh) for key, m in messages().items()} == {
        key: _fields(m.en) for key, m in messages().items()
    }


def test_simplified_chinese_is_the_default_language() -> None:
    for code in (None, "", "fr", "zh"):
        assert Language.chosen(code) is Language.ZH
    assert Language.chosen("en") is Language.EN
    assert (Language.ZH.tag, Language.EN.tag) == ("zh-CN", "en")


def test_a_message_takes_exactly_its_placeholders() -> None:
    t = Translator(Language.EN)
    assert t("requests.validity_days", days=60) == "60 days from approval"
    for wrong in ({}, {"day": 60}, {"days": 60, "extra": 1}):
        with pytest.raises(KeyError):
            t("requests.validity_days", **wrong)


def test_times_are_shown_in_china_standard_time() -> None:
    t = Translator(Language.ZH)
    assert t.moment(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == "2026-03-02 00:30"
    assert t.moment(None) == "—"


def test_codes_without_a_text_are_shown_as_they_are() -> None:
    t = Translator(Language.ZH)
    assert t.code("reason", "revoked") == "授权已撤回"
    assert t.code("reason", "something_new") == "something_new"
    assert t.categories(["basic", "income"]) == "基本信息、收入信息"
    assert Translator(Language.EN).categories(["basic", "income"]) == "Basic information, Income"
