"""Art. 41 para. 2: periods of records, and selecting records for the purge job."""

from __future__ import annotations

from datetime import date

from redaction.periods import Period
from redaction.records import CreditRecord, display_ends_on, past_retention, retention_ends_on
from tests.redaction.factories import make_catalog, make_item, make_record

ITEM = make_item("penalty", display_period=Period(years=3), retention_period=Period(years=5))
CATALOG = make_catalog(ITEM)


def test_periods_run_from_the_decision_date() -> None:
    record = make_record("penalty", {}, decided_on=date(2020, 3, 1))
    assert display_ends_on(record, ITEM) == date(2023, 3, 1)
    assert retention_ends_on(record, ITEM) == date(2025, 3, 1)


def test_without_a_decision_periods_run_from_the_conduct() -> None:
    record = CreditRecord("r", "penalty", 1, {}, "unit", occurred_on=date(2021, 7, 1))
    assert record.period_start == date(2021, 7, 1)
    assert retention_ends_on(record, ITEM) == date(2026, 7, 1)


def test_purge_selects_records_past_retention() -> None:
    old = make_record("penalty", {}, record_id="old", decided_on=date(2020, 3, 1))
    ending = make_record("penalty", {}, record_id="ending", decided_on=date(2020, 3, 2))
    unknown = make_record("gone_item", {}, record_id="unknown", decided_on=date(2000, 1, 1))
    selected = past_retention([old, ending, unknown], CATALOG, date(2025, 3, 1))
    assert [record.record_id for record in selected] == ["old"]


def test_versions_list_history_then_current() -> None:
    first = make_record("penalty", {"note": "a"})
    second = make_record("penalty", {"note": "b"}, history=(first,))
    assert second.version == 2
    assert second.versions == (first, second)
