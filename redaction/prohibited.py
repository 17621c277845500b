"""Art. 62 para. 1: the categories of information that are never collected about natural persons.

Religious faith, genetics, fingerprints, blood type, illnesses or medical history. This module
only *recognizes* them in text (catalog names, field names, free-text content), in Chinese and
English; the catalog loader, the ingestion check and the redaction engine decide what to do.

Matching, in order:

1. the text is normalized: ``camelCase`` is split, ``_ - . /`` become spaces, case is folded;
2. benign phrases that merely contain a term are blanked out, to avoid absurd false positives:
   the issuing authority 疾病预防控制中心 (CDC), the insurance product 重大疾病保险, 故障诊断
   (fault diagnosis), the slogan 红色基因, the law 传染病防治法, certificate fingerprints,
   "in good faith" / "bad faith", the religious affairs bureau (宗教事务局) as an issuer...;
   terms that occur inside everyday words are left out (信教 is inside 诚信教育, credit
   education);
3. Chinese terms match as substrings; then, if the text has Latin letters, English terms match
   as whole words (not inside a longer Latin word: ``faithful`` and ``blood donation`` do not
   match, ``blood type`` does).
"""

from __future__ import annotations

import re
from enum import StrEnum


class ProhibitedCategory(StrEnum):
    RELIGIOUS_FAITH = "religious_faith"
    GENETICS = "genetics"
    FINGERPRINTS = "fingerprints"
    BLOOD_TYPE = "blood_type"
    ILLNESS_OR_MEDICAL_HISTORY = "illness_or_medical_history"


_CHINESE_TERMS: dict[ProhibitedCategory, tuple[str, ...]] = {
    ProhibitedCategory.RELIGIOUS_FAITH: ("宗教", "信仰"),
    ProhibitedCategory.GENETICS: ("基因", "遗传", "染色体"),
    ProhibitedCategory.FINGERPRINTS: ("指纹",),
    ProhibitedCategory.BLOOD_TYPE: ("血型",),
    ProhibitedCategory.ILLNESS_OR_MEDICAL_HISTORY: (
        "病史",
        "病历",
        "疾病",
        "诊断",
        "确诊",
        "患有",
        "病情",
        "传染病",
        "精神病",
    ),
}

_ENGLISH_TERMS: dict[ProhibitedCategory, tuple[str, ...]] = {
    ProhibitedCategory.RELIGIOUS_FAITH: (
        r"religio(?:n|ns|us)",
        r"faiths?",
        r"islam(?:ic)?",
        r"muslims?",
        r"buddhis(?:m|t|ts)",
        r"christianity",
        r"catholi(?:c|cs|cism)",
        r"hinduism",
    ),
    ProhibitedCategory.GENETICS: (
        r"genetics?",
        r"genetically",
        r"genom(?:e|es|ic)",
        r"dna",
        r"gene (?:tests?|testing|sequencing)",
    ),
    ProhibitedCategory.FINGERPRINTS: (r"finger ?prints?",),
    ProhibitedCategory.BLOOD_TYPE: (r"blood (?:types?|groups?)",),
    ProhibitedCategory.ILLNESS_OR_MEDICAL_HISTORY: (
        r"illness(?:es)?",
        r"diseases?",
        r"diagnos(?:is|es|ed)",
        r"medical (?:history|histories|records?)",
        r"hiv",
    ),
}

_BENIGN_PHRASES = (
    "疾病预防控制",
    "疾病保险",
    "故障诊断",
    "红色基因",
    "文化基因",
    "传染病防治",
    "宗教事务",
    "数字指纹",
    "证书指纹",
    "公钥指纹",
    "指纹锁",
    "good faith",
    "bad faith",
    "disease control",
    "critical illness insurance",
    "illness insurance",
    "fault diagnosis",
    "digital fingerprint",
    "certificate fingerprint",
    "key fingerprint",
    "fingerprint lock",
    "religious affairs",
)


def _grouped(terms: dict[ProhibitedCategory, tuple[str, ...]]) -> str:
    return "|".join(f"(?P<{category.value}>{'|'.join(terms[category])})" for category in terms)


_CHINESE = re.compile(
    _grouped({category: tuple(map(re.escape, terms)) for category, terms in _CHINESE_TERMS.items()})
)
_ENGLISH = re.compile(rf"(?<![a-z])(?:{_grouped(_ENGLISH_TERMS)})(?![a-z])")
_LATIN = re.compile(r"[a-z]")
_BENIGN = re.compile("|".join(re.escape(phrase) for phrase in _BENIGN_PHRASES))
_CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s_\-./\\]+")


def _normalized(text: str) -> str:
    return _SEPARATORS.sub(" ", _CAMEL_CASE.sub(" ", text)).casefold()


def find_prohibited(text: str) -> ProhibitedCategory | None:
    """A prohibited category mentioned in ``text`` (Chinese terms first), or None."""
    normalized = _BENIGN.sub(" ", _normalized(text))
    match = _CHINESE.search(normalized)
    if match is None and _LATIN.search(normalized):
        match = _ENGLISH.search(normalized)
    if match is None or match.lastgroup is None:
        return None
    return ProhibitedCategory(match.lastgroup)
