"""Art. 62 para. 1: recognizing prohibited categories, without absurd false positives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redaction.prohibited import ProhibitedCategory, find_prohibited
from tests.redaction.strategies import PROPERTY

P = ProhibitedCategory


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("本人宗教信仰为某教", P.RELIGIOUS_FAITH),
        ("Religion: none", P.RELIGIOUS_FAITH),
        ("religious_affiliation", P.RELIGIOUS_FAITH),
        ("基因检测报告", P.GENETICS),
        ("DNA sample", P.GENETICS),
        ("geneticMarkers", P.GENETICS),
        ("采集指纹", P.FINGERPRINTS),
        ("fingerprint_hash", P.FINGERPRINTS),
        ("血型：A", P.BLOOD_TYPE),
        ("bloodType", P.BLOOD_TYPE),
        ("blood-group O", P.BLOOD_TYPE),
        ("既往病史", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("患有高血压", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("Diagnosed with an illness", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("medical_history", P.ILLNESS_OR_MEDICAL_HISTORY),
        ("当事人患有illness", P.ILLNESS_OR_MEDICAL_HISTORY),
    ],
)
def test_recognized(text: str, category: ProhibitedCategory) -> None:
    assert find_prohibited(text) is category


@pytest.mark.parametrize(
    "text",
    [
        "开展诚信教育活动",
        "示范省疾病预防控制中心",
        "重大疾病保险",
        "传承红色基因",
        "违反《中华人民共和国传染病防治法》",
        "汽车故障诊断服务",
        "市民族宗教事务局",
        "证书指纹 SHA-256",
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
    ],
)
def test_benign_text_passes(text: str) -> None:
    assert find_prohibited(text) is None


chinese_terms = st.sampled_from(["宗教", "信仰", "基因", "指纹", "血型", "病史", "疾病", "诊断"])
surroundings = st.text("的是了在有人和一不张王李0123456789abc ，。", max_size=20)


@PROPERTY
@given(surroundings, chinese_terms, surroundings)
def test_chinese_terms_are_found_anywhere(before: str, term: str, after: str) -> None:
    assert find_prohibited(before + term + after) is not None
