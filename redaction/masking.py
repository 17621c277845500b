"""Art. 40 para. 2: desensitization of natural persons' personal information that is disclosed.

Rules, by declared field type (:data:`MASKERS`):

* ``name``: the surname is kept (compound surnames such as 欧阳 included), every other character
  is masked: 张三丰 -> 张**. Names in Latin script keep only the initial of each word, since
  the surname's position is not known: ``John Smith`` -> ``J*** S****``.
* ``id_number``: the 6-digit region code and the check character are kept; birth date,
  sequence and gender digit never leave the self channel: ``110105***********X``.
* ``phone``: the first 3 and last 4 digits are kept (``138****5678``); numbers of fewer than
  11 digits keep only their last 2.
* ``bank_card``: only the last 4 digits are kept.
* ``address``: kept up to the district (区 / 县 / 旗 / county-level 市), or the city when there
  is no district; the rest becomes ``****``. An address that cannot be read is fully masked.
* ``free_text``: ID numbers (check character and birth date valid), mobile numbers and
  Luhn-valid card numbers found inside the text are masked by the rules above
  (:func:`mask_identifiers_in_text`, which the engine also applies to ``string`` fields).
* any other type declared personal: fully masked (``****``).

Legal persons' data is never personal: credit codes and company names are not masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from redaction.catalog import FieldType
from redaction.identifiers import resembles_id_number

MASK = "*"
FULL_MASK = MASK * 4

COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "太史",
        "端木",
        "上官",
        "司马",
        "东方",
        "独孤",
        "南宫",
        "万俟",
        "闻人",
        "夏侯",
        "诸葛",
        "尉迟",
        "公羊",
        "赫连",
        "澹台",
        "皇甫",
        "宗政",
        "濮阳",
        "公冶",
        "太叔",
        "申屠",
        "公孙",
        "慕容",
        "仲孙",
        "钟离",
        "长孙",
        "宇文",
        "司徒",
        "鲜于",
        "司空",
        "令狐",
        "轩辕",
        "西门",
        "百里",
        "呼延",
        "东郭",
        "南门",
        "第五",
    }
)

_CJK = re.compile(r"[\u3400-\u9fff]")
_PROVINCE = r"(?:[^省市区县旗]{2,7}?(?:省|自治区|特别行政区))?"
_CITY = r"(?:[^省市区县旗]{1,9}?(?:市|自治州|地区|盟))?"
_NOT_A_DISTRICT = "".join(
    f"(?<!{word})" for word in ("小区", "社区", "园区", "校区", "景区", "片区", "街区")
)
_DISTRICT = rf"(?:[^省市区县旗]{{1,7}}?(?:区|县|旗|市){_NOT_A_DISTRICT})?"
_UP_TO_DISTRICT = re.compile(_PROVINCE + _CITY + _DISTRICT)

_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_CARD_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{4}(?:[ -]?[0-9]{4}){2,3}(?:[ -]?[0-9]{1,3})?(?![0-9])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")


def _mask_digits(value: str, keep_first: int, keep_last: int) -> str:
    """Mask the digits of ``value`` but the first and last few; other characters stay."""
    digits = sum(char.isdigit() for char in value)
    seen = 0
    masked = []
    for char in value:
        if char.isdigit():
            keep = seen < keep_first or seen >= digits - keep_last
            masked.append(char if keep else MASK)
            seen += 1
        else:
            masked.append(char)
    return "".join(masked)


def mask_name(name: str) -> str:
    name = name.strip()
    if not _CJK.match(name):
        return " ".join(word[0] + MASK * (len(word) - 1) for word in name.split())
    surname = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[:1]
    rest = "".join("·" if char == "·" else MASK for char in name[len(surname) :])
    return surname + rest if rest else MASK * len(name)


def mask_id_number(number: str) -> str:
    return number[:6] + MASK * 11 + number[17:] if len(number) == 18 else FULL_MASK


def mask_phone(phone: str) -> str:
    digits = sum(char.isdigit() for char in phone)
    return _mask_digits(phone, 3, 4) if digits >= 11 else _mask_digits(phone, 0, 2)


def mask_bank_card(card: str) -> str:
    return _mask_digits(card, 0, 4)


def mask_address(address: str) -> str:
    kept = _UP_TO_DISTRICT.match(address.strip())
    prefix = kept.group(0) if kept else ""
    return address if prefix == address.strip() else prefix + FULL_MASK


def mask_all(_value: str) -> str:
    return FULL_MASK


def luhn_valid(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812-1) check of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_id_match(match: re.Match[str]) -> str:
    candidate = match.group(0).upper()
    return mask_id_number(candidate) if resembles_id_number(candidate) else match.group(0)


def _mask_card_match(match: re.Match[str]) -> str:
    text = match.group(0)
    return mask_bank_card(text) if luhn_valid(re.sub(r"[ -]", "", text)) else text


def mask_identifiers_in_text(text: str) -> str:
    """Mask ID numbers, Luhn-valid card numbers and mobile numbers inside free text."""
    text = _ID_IN_TEXT.sub(_mask_id_match, text)
    text = _CARD_IN_TEXT.sub(_mask_card_match, text)
    return _MOBILE_IN_TEXT.sub(lambda match: mask_phone(match.group(0)), text)


MASKERS: dict[FieldType, Callable[[str], str]] = {
    FieldType.NAME: mask_name,
    FieldType.ID_NUMBER: mask_id_number,
    FieldType.PHONE: mask_phone,
    FieldType.BANK_CARD: mask_bank_card,
    FieldType.ADDRESS: mask_address,
    FieldType.FREE_TEXT: mask_identifiers_in_text,
}


def mask_personal(field_type: FieldType, value: str) -> str:
    """Desensitize a natural person's data by its declared type; unknown shapes fully."""
    return MASKERS.get(field_type, mask_all)(value)
