"""A realistic report for the fictional demo province (Art. 35 catalog), for seeding and benches.

:func:`demo_records` builds ``count`` records about one subject, cycling through the catalog items
that apply to the subject's kind, every declared field filled with a plausible value of its type
(values pass :func:`~redaction.ingest.validate_submission`). The first record has an earlier
version, the second is under objection (Art. 64); all are inside their display periods on
``today``. The identifiers below are the published examples of GB 11643 and GB 32100.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from redaction.catalog import Catalog, FieldType
from redaction.identifiers import SubjectIdentifier
from redaction.records import CreditRecord

DEMO_ID_NUMBER = "11010519491231002X"
DEMO_CREDIT_CODE = "91350100M000100Y43"
DEMO_SOURCE = "示范省公共信用信息中心"

SAMPLE_VALUES: dict[FieldType, str] = {
    FieldType.NAME: "张三丰",
    FieldType.ID_NUMBER: DEMO_ID_NUMBER,
    FieldType.CREDIT_CODE: DEMO_CREDIT_CODE,
    FieldType.PHONE: "13812345678",
    FieldType.BANK_CARD: "6222021234567890128",
    FieldType.ADDRESS: "示范省江城市玄武区中山路1号",
    FieldType.FREE_TEXT: "经核查，当事人已在期限内履行义务；联系电话13812345678。",
    FieldType.DATE: "2024-03-01",
    FieldType.AMOUNT: "12000.00",
    FieldType.STRING: "示范省江城市市场监督管理局",
    FieldType.CODE: "（2024）示0102执123号",
}


def demo_records(
    catalog: Catalog, subject: SubjectIdentifier, *, today: date, count: int = 20
) -> tuple[CreditRecord, ...]:
    """``count`` records about ``subject``, decided 180 days before ``today``."""
    items = [item for item in catalog.items if subject.subject_kind in item.applies_to]
    records = []
    for index in range(count):
        item = items[index % len(items)]
        record = CreditRecord(
            record_id=f"demo-{index:04d}",
            item_code=item.code,
            version=1,
            fields={spec.name: SAMPLE_VALUES[spec.type] for spec in item.fields},
            source=DEMO_SOURCE,
            occurred_on=today - timedelta(days=200),
            decided_on=today - timedelta(days=180),
            under_objection=index == 1,
        )
        if index == 0:
            record = _revised(record)
        records.append(record)
    return tuple(records)


def _revised(record: CreditRecord) -> CreditRecord:
    return replace(record, version=2, change_reason="依据复核决定更正", history=(record,))
