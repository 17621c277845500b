"""Art. 40 para. 2: desensitization rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redaction.catalog import FieldType
from redaction.masking import (
    mask_address,
    mask_bank_card,
    mask_id_number,
    mask_identifiers_in_text,
    mask_name,
    mask_personal,
    mask_phone,
)
from tests.redaction.strategies import PROPERTY, bank_cards, id_numbers, mobiles


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("李四", "李*"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳", "欧*"),
        ("王", "*"),
        ("买买提·艾力", "买**·**"),
        ("John Smith", "J*** S****"),
    ],
)
def test_names_keep_the_surname(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_id_numbers_keep_region_and_check_character_only() -> None:
    assert mask_id_number("11010519491231002X") == "110105***********X"
    assert mask_id_number("not an id") == "****"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("025-84321234", "025-****1234"), ("84321234", "******34")],
)
def test_phones(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_bank_cards_keep_the_last_four_digits() -> None:
    assert mask_bank_card("6222021234567890128") == "***************0128"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("江苏省南京市玄武区中山路1号", "江苏省南京市玄武区****"),
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区****"),
        ("江苏省苏州市昆山市花桥镇1号", "江苏省苏州市昆山市****"),
        ("南京市阳光小区3栋", "南京市****"),
        ("江苏省南京市玄武区", "江苏省南京市玄武区"),
        ("12 Baker Street, London", "****"),
    ],
)
def test_addresses_keep_up_to_the_district(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_other_personal_types_are_fully_masked() -> None:
    assert mask_personal(FieldType.AMOUNT, "12000.00") == "****"
    assert mask_personal(FieldType.NAME, "张三") == "张*"


def test_identifiers_inside_free_text() -> None:
    text = (
        "当事人11010519491231002X，电话138 1234 5678，卡号6222 0212 3456 7890 128，"
        "代码91350100M000100Y43"
    )
    assert mask_identifiers_in_text(text) == (
        "当事人110105***********X，电话138 **** 5678，卡号**** **** **** ***0 128，"
        "代码91350100M000100Y43"
    )


def test_numbers_that_are_not_identifiers_stay() -> None:
    text = "案号2024000000000001，金额12000元，日期20240101，单号110105194912310021"
    assert mask_identifiers_in_text(text) == text


@PROPERTY
@given(
    st.text("的是了在 ，。abc", max_size=10),
    st.one_of(id_numbers(), mobiles, bank_cards()),
    st.text("的是了在 ，。abc", max_size=10),
)
def test_no_identifier_survives_in_free_text(before: str, identifier: str, after: str) -> None:
    masked = mask_identifiers_in_text(before + identifier + after)
    assert identifier not in masked
    assert masked.startswith(before)
    assert masked.endswith(after)


@PROPERTY
@given(id_numbers())
def test_birth_date_and_gender_digit_never_shown(number: str) -> None:
    assert re.fullmatch(r"[0-9]{6}\*{11}[0-9X]", mask_id_number(number))
