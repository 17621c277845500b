"""Art. 62 para. 1: recognizing prohibited categories through what writers do to words,
without absurd false positives; the lexicon is versioned data that loads whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redaction.lexicon import LexiconInvalid, lexicon_files, read_file
from redaction.normalize import normalize
from redaction.prohibited import (
    ProhibitedCategory,
    Screen,
    find_prohibited,
    prohibited_categories,
    screen,
)
from tests.redaction.strategies import PROPERTY

P = ProhibitedCategory


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("本人宗教信仰为某教", P.RELIGIOUS_FAITH),
        ("Religion: none", P.RELIGIOUS_FAITH),
        ("religious_affiliation", P.RELIGIOUS_FAITH),
        ("借款人系基督徒", P.RELIGIOUS_FAITH),
        ("每周五去清真寺做礼拜", P.RELIGIOUS_FAITH),
        ("基因检测报告", P.GENETICS),
        ("DNA sample", P.GENETICS),
        ("geneticMarkers", P.GENETICS),
        ("BRCA1 positive", P.GENETICS),
        ("采集指纹", P.FINGERPRINTS),
        ("fingerprint_hash", P.FINGERPRINTS),
        ("虹膜特征已采集", P.FINGERPRINTS),
        ("voiceprint enrolled", P.FINGERPRINTS),
        ("血型：A", P.BLOOD_TYPE),
        ("bloodType", P.BLOOD_TYPE),
        ("blood-group O", P.BLOOD_TYPE),
        ("Rh阴性", P.BLOOD_TYPE),
        ("O型血", P.BLOOD_TYPE),
        ("blood group AB+", P.BLOOD_TYPE),
        ("既往病史", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("患有高血压", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("Diagnosed with an illness", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("medical_history", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("当事人患有illness", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("正在接受化疗", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("on methadone", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("cancer", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("HIV", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("diabetes patients", P.ILLNESS_OR_MEDICAL_HISTORY),
    ],
)
def test_recognized(text: str, category: ProhibitedCategory) -> None:
    assert find_prohibited(text) is category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("診斷為精神分裂症", P.ILLNESS_OR_MEDICAL_HISTORY),  # traditional Chinese
        ("借款人為基督徒", P.RELIGIOUS_FAITH),
        ("糖\u200b尿\u200b病", P.ILLNESS_OR_MEDICAL_HISTORY),  # zero-width spaces
        ("当事人信\u2060仰佛教", P.RELIGIOUS_FAITH),  # word joiner
        ("遗传\u00ad信息", P.GENETICS),  # soft hyphen
        ("艾 滋 病", P.ILLNESS_OR_MEDICAL_HISTORY),  # spaces inside a word
        ("ｆｉｎｇｅｒｐｒｉｎｔ", P.FINGERPRINTS),  # full width
        ("Ｏ型血", P.BLOOD_TYPE),
        ("c a n c e r", P.ILLNESS_OR_MEDICAL_HISTORY),  # spelled out
        ("a C h r i s t i a n", P.RELIGIOUS_FAITH),
        ("H.I.V. positive", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("C-A-N-C-E-R", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("CANCER", P.ILLNESS_OR_MEDICAL_HISTORY),  # case
        ("fingerPrintImage", P.FINGERPRINTS),  # camelCase
    ],
)
def test_recognized_through_obfuscation(text: str, category: ProhibitedCategory) -> None:
    assert find_prohibited(text) is category


@pytest.mark.parametrize(
    "text",
    [
        "开展诚信教育活动",
        "加强宣传教育",
        "严重失信主体名单信息",
        "示范省疾病预防控制中心",
        "重大疾病保险",
        "传承红色基因",
        "未按规定标注转基因标识",
        "违反《中华人民共和国传染病防治法》",
        "汽车故障诊断服务",
        "市民族宗教事务局",
        "证书指纹 SHA-256",
        "某医院未按规定处置医疗废物",
        "当事人非法行医",
        "某大药房销售过期药品",
        "某肿瘤医院拖欠工程款",
        "某血型试剂生产企业",
        "以看病为由向亲友借款",
        "投资失败，血本无归",
        "属于中风险等级",
        "acted in good faith",
        "a bad-faith filing",
        "faithful performance",
        "unpaid blood donation",
        "无偿献血表彰",
        "archive of hearings",
        "Adnan Trading",
        "Centers for Disease Control",
        "critical illness insurance",
        "安装指纹锁",
        "王信",
        "cancellation fee",
        "Danish Trading",
        "Genesis project",
        "the psychiatric hospital overcharged",
        "the hospital failed to report suspected occupational diseases",
        "advertising that its pills cure cancer",
    ],
)
def test_benign_text_passes(text: str) -> None:
    assert find_prohibited(text) is None


def test_a_longer_term_that_takes_a_suffix_in_is_not_masked_by_it() -> None:
    """精神病 + 院 is an institution's name; 精神病院 is itself a term (a stay there)."""
    assert find_prohibited("当事人曾入精神病院") is P.ILLNESS_OR_MEDICAL_HISTORY


def test_every_category_mentioned_is_named_in_text_order() -> None:
    text = "借款人O型血，患有糖尿病，系基督徒"
    assert prohibited_categories(text) == (
        P.BLOOD_TYPE,
        P.ILLNESS_OR_MEDICAL_HISTORY,
        P.RELIGIOUS_FAITH,
    )


def test_normalization() -> None:
    assert normalize("申請人 血型\u200b為 Ｏ 型") == "申请人血型为o型"
    assert normalize("bloodType_AB") == "blood type ab"
    assert normalize("a c a n c e r") == "a cancer"


def test_the_lexicon_is_versioned_data_with_sources() -> None:
    files = lexicon_files()
    categories = {lexicon.category for lexicon in files}
    assert categories == {*ProhibitedCategory, "benign"}
    for lexicon in files:
        assert lexicon.version and lexicon.header["sources"] and lexicon.header["licence"]
    assert screen().term_count >= 3000
    terms = {lexicon.category: len(lexicon.entries) for lexicon in files}
    assert terms[P.ILLNESS_OR_MEDICAL_HISTORY] >= 2000


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "# category: genetics\n# version: 1\n# sources: test\n# licence: CC0-1.0\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("genetics.tsv", "# category: genetics\n# version: 1\n基因\tx\n"),  # no sources
        ("genetics.tsv", HEADER + "\tgroup\n"),  # an entry without its term
        ("blood_type.tsv", HEADER + "基因\tx\n"),  # the header names another category
    ],
)
def test_a_malformed_lexicon_file_is_refused(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(LexiconInvalid):
        read_file(_write(tmp_path, name, text))


def test_a_lexicon_missing_a_category_or_with_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    genetics = read_file(_write(tmp_path, "genetics.tsv", HEADER + "基因\tx\n"))
    with pytest.raises(LexiconInvalid):
        Screen([genetics])
    benign = read_file(
        _write(tmp_path, "benign.tsv", HEADER.replace("genetics", "benign") + "prefix\tx\n")
    )
    with pytest.raises(LexiconInvalid):
        Screen([*lexicon_files(), benign])


chinese_terms = st.sampled_from(["宗教", "信仰", "基因", "指纹", "血型", "病史", "疾病", "诊断"])
surroundings = st.text("的是了在有人和一不张王李0123456789abc ，。", max_size=20)


@PROPERTY
@given(surroundings, chinese_terms, surroundings)
def test_chinese_terms_are_found_anywhere(before: str, term: str, after: str) -> None:
    assert find_prohibited(before + term + after) is not None


def _terms(chinese: bool) -> list[str]:
    """The lexicon's terms all in Chinese characters, or all in ASCII."""
    return sorted(
        term
        for lexicon in lexicon_files()
        if lexicon.category != "benign"
        for term, _group in lexicon.entries
        if len(term) > 1 and (term.isascii() if not chinese else not any(map(str.isascii, term)))
    )


CHINESE_TERMS = _terms(chinese=True)
ENGLISH_TERMS = _terms(chinese=False)
INSIDE_WORDS = st.sampled_from(["\u200b", "\u200d", "\u2060", "\u00ad", "\ufeff", " ", "　"])


@PROPERTY
@given(st.sampled_from(CHINESE_TERMS), st.data())
def test_a_chinese_term_is_found_whatever_is_slipped_between_its_characters(
    term: str, data: st.DataObject
) -> None:
    pieces = [data.draw(st.lists(INSIDE_WORDS, max_size=2)) for _ in term]
    text = "".join(
        character + "".join(extra) for character, extra in zip(term, pieces, strict=True)
    )
    assert find_prohibited(f"经核查，{text}。") is not None, text


@PROPERTY
@given(st.sampled_from(ENGLISH_TERMS), st.booleans(), st.booleans())
def test_an_english_term_is_found_full_width_or_upper_case(
    term: str, full_width: bool, upper: bool
) -> None:
    text = term.upper() if upper else term
    if full_width:
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    assert find_prohibited(f"Note: {text}.") is not None, text


def test_every_term_of_the_lexicon_is_found_in_its_category_on_its_own() -> None:
    """No benign context swallows a term by itself; the zero-width and case forms too."""
    missed = [
        (lexicon.category, term)
        for lexicon in lexicon_files()
        if lexicon.category != "benign"
        for term, _group in lexicon.entries
        for text in (term, term.upper() if term.isascii() else "\u200b".join(term))
        if lexicon.category not in prohibited_categories(text)
    ]
    assert not missed
