"""A kept view is served only for exactly the inputs it was rendered from (Art. 39-41, 62-66):
any change of a record, of the access, of the day or of the pseudonym key renders afresh."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest

from gateway.archive.views import RenderedViews
from redaction.demo import SAMPLE_VALUES
from redaction.engine import CreditView, render_view
from redaction.policies import Access
from redaction.pseudonym import PseudonymKeys
from redaction.records import CreditRecord, RecordStatus
from tests.redaction.factories import KEYS, NOW, demo_catalog, make_record, person

TODAY = date(2025, 6, 1)
CATALOG = demo_catalog()
ACCESS = Access.own("citizen", person())


def _record(code: str, record_id: str) -> CreditRecord:
    fields = {spec.name: SAMPLE_VALUES[spec.type] for spec in CATALOG.item(code).fields}
    return make_record(code, fields, record_id=record_id)


RECORDS = (_record("administrative_penalty", "r1"), _record("professional_qualification", "r2"))


def _counting(records: tuple[CreditRecord, ...], renders: list[int]) -> Callable[[], CreditView]:
    def render() -> CreditView:
        renders.append(1)
        return render_view(records, access=ACCESS, catalog=CATALOG, at=NOW, pseudonym_keys=KEYS)

    return render


def test_the_same_inputs_reuse_the_view() -> None:
    views, renders = RenderedViews(), list[int]()
    first = views.view(RECORDS, ACCESS, CATALOG, TODAY, KEYS, _counting(RECORDS, renders))
    again = views.view(RECORDS, ACCESS, CATALOG, TODAY, KEYS, _counting(RECORDS, renders))
    assert again is first
    assert len(renders) == 1


@pytest.mark.parametrize(
    "change",
    [
        "field",
        "status",
        "objection",
        "new record",
        "access",
        "day",
        "pseudonym key",
    ],
)
def test_any_change_of_the_inputs_renders_afresh(change: str) -> None:
    views, renders = RenderedViews(), list[int]()
    views.view(RECORDS, ACCESS, CATALOG, TODAY, KEYS, _counting(RECORDS, renders))
    records: tuple[CreditRecord, ...] = RECORDS
    access, today, keys = ACCESS, TODAY, KEYS
    first_field = next(iter(RECORDS[0].fields))
    changed_field = dict(RECORDS[0].fields) | {first_field: "已更正"}
    if change == "field":
        records = (replace(RECORDS[0], fields=changed_field), RECORDS[1])
    elif change == "status":
        records = (replace(RECORDS[0], status=RecordStatus.REVOKED), RECORDS[1])
    elif change == "objection":
        records = (replace(RECORDS[0], under_objection=True), RECORDS[1])
    elif change == "new record":
        records = (*RECORDS, _record("honour_award", "r3"))
    elif change == "access":
        access = Access.public("anyone", person())
    elif change == "day":
        today = TODAY + timedelta(days=1)
    else:
        keys = PseudonymKeys(KEYS.master_key, KEYS.version + 1)
    views.view(records, access, CATALOG, today, keys, _counting(records, renders))
    assert len(renders) == 2


def test_the_oldest_view_makes_room() -> None:
    views, renders = RenderedViews(size=1), list[int]()
    views.view(RECORDS, ACCESS, CATALOG, TODAY, KEYS, _counting(RECORDS, renders))
    views.view(RECORDS[:1], ACCESS, CATALOG, TODAY, KEYS, _counting(RECORDS[:1], renders))
    views.view(RECORDS, ACCESS, CATALOG, TODAY, KEYS, _counting(RECORDS, renders))
    assert len(renders) == 3
