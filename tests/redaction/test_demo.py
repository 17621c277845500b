"""The demo report: realistic, lawful records for seeding and the benchmark."""

from __future__ import annotations

import json

import pytest

from redaction.catalog import RESTRICTED_CATEGORIES, Category, ScopeCategory
from redaction.demo import demo_records
from redaction.engine import render_view
from redaction.identifiers import SubjectIdentifier
from redaction.ingest import SubjectReference, validate_submission
from redaction.policies import Access
from tests.redaction.factories import (
    KEYS,
    NOW,
    TODAY,
    basis,
    company,
    demo_catalog,
    person,
    submission,
)


@pytest.mark.parametrize("subject", [person(), company()])
def test_demo_records_pass_ingestion(subject: SubjectIdentifier) -> None:
    catalog = demo_catalog()
    for record in demo_records(catalog, subject, today=TODAY):
        item = catalog.item(record.item_code)
        accepted = validate_submission(
            submission(
                record.item_code,
                record.fields,
                subject=SubjectReference(subject.kind, subject.value),
                basis_document=basis() if item.category is Category.UNTRUSTWORTHY else None,
                written_consent_ref="wc-1" if item.restricted else None,
                occurred_on=record.occurred_on,
                decided_on=record.decided_on,
            ),
            catalog,
            received_at=NOW,
            sector=min(item.designated_by, default=None),
        )
        assert accepted.fields == record.fields


def test_a_twenty_item_report_for_every_channel() -> None:
    records = demo_records(demo_catalog(), person(), today=TODAY)
    assert len(records) == 20
    assert records[0].history and records[1].under_objection
    everything = frozenset(ScopeCategory)
    accesses = [
        Access.own("citizen-1", person()),
        Access.public("anyone", person()),
        Access.authorized("bank-1", person(), everything, RESTRICTED_CATEGORIES),
    ]
    served = [
        len(
            render_view(
                records, access=access, catalog=demo_catalog(), at=NOW, pseudonym_keys=KEYS
            ).items
        )
        for access in accesses
    ]
    assert served == [20, 9, 20]


def test_the_self_report_serializes_to_json() -> None:
    records = demo_records(demo_catalog(), person(), today=TODAY, count=3)
    view = render_view(
        records,
        access=Access.own("citizen-1", person()),
        catalog=demo_catalog(),
        at=NOW,
        pseudonym_keys=KEYS,
    )
    document = json.loads(json.dumps(view.to_document(), ensure_ascii=False))
    assert document["items"][0]["history"][0]["version"] == 1
    assert document["items"][1]["labels"] == ["under_objection"]
