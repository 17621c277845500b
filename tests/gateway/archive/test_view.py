"""The read the disclosure channels use (Art. 39-41, 62, 63), on the seeded demo archive: the
subject sees everything with its history, the public a desensitized part; spans are opened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlmodel import col, select

from gateway.archive.models import RecordRow, RecordVersionRow
from gateway.archive.repository import SqlCreditArchive
from gateway.archive.service import archive_catalog
from gateway.demo import demo_subjects, seed_demo_archive
from gateway.storage.db import unit_of_work
from gateway.subjects import subject_key
from gateway.telemetry import SPAN_ARCHIVE, SPAN_REDACTION
from redaction.catalog import Category, FieldType
from redaction.demo import SAMPLE_VALUES
from redaction.engine import Action
from redaction.identifiers import SubjectIdentifier
from redaction.periods import local_date
from redaction.policies import Access, Channel, Reason
from redaction.records import display_ends_on
from tests.gateway.archive.factories import Archive

WEEK = timedelta(days=7)


@pytest.fixture(scope="module")
def subjects(archive: Archive) -> Iterator[list[SubjectIdentifier]]:
    """The demo subjects, their archive seeded as ``gateway demo`` does."""
    report = seed_demo_archive(archive.settings)
    assert "(100 submitted now)" in report and "from 4 providing units" in report
    yield demo_subjects(date.today())


def _versions(archive: Archive, subject: SubjectIdentifier) -> list[tuple[str, RecordVersionRow]]:
    key = subject_key(archive.keys, subject)
    with unit_of_work(archive.engine) as session:
        rows = session.exec(
            select(RecordRow.item_code, RecordVersionRow)
            .join(RecordRow, col(RecordRow.record_id) == col(RecordVersionRow.record_id))
            .where(col(RecordRow.subject_key) == key)
        )
        return [(item_code, version) for item_code, version in rows]


def test_seeding_the_demo_archive_again_adds_nothing(
    archive: Archive, subjects: list[SubjectIdentifier]
) -> None:
    before = archive.counts()
    assert "(0 submitted now)" in seed_demo_archive(archive.settings)
    assert archive.counts() == before


def test_the_demo_records_carry_basis_documents_and_written_consents(
    archive: Archive, subjects: list[SubjectIdentifier]
) -> None:
    catalog = archive_catalog()
    for subject in subjects:
        versions = _versions(archive, subject)
        assert len({version.record_id for _, version in versions}) == 20
        for item_code, version in versions:
            item = catalog.item(item_code)
            assert (version.basis is not None) == (item.category is Category.UNTRUSTWORTHY)
            assert (version.written_consent_ref is not None) == item.restricted
    citizen_items = {item_code for item_code, _ in _versions(archive, subjects[0])}
    assert {"personal_income", "real_estate", "dishonest_judgment_debtor"} <= citizen_items


def test_the_subject_sees_every_record_with_its_history(
    archive: Archive, subjects: list[SubjectIdentifier]
) -> None:
    citizen = subjects[0]
    view = archive.view(Access.own("citizen", citizen))
    assert view.channel is Channel.SELF and view.subject_ref == citizen.key
    assert len(view.items) == 20 and view.redactions == ()
    (corrected,) = [item for item in view.items if item.history]
    assert corrected.version == 2 and corrected.change_reason
    assert corrected.history[0].occurred_on < corrected.occurred_on
    restricted = {item.scope_category for item in view.items} & {"income", "real_estate", "tax"}
    assert restricted == {"income", "real_estate", "tax"}


def test_the_public_sees_disclosed_items_desensitized(
    archive: Archive, subjects: list[SubjectIdentifier]
) -> None:
    citizen = subjects[0]
    view = archive.view(Access.public("anonymous", citizen))
    catalog = archive_catalog()
    assert view.items and all(catalog.item(i.item_code).publicly_disclosed for i in view.items)
    assert view.subject_ref.startswith("p1-") and view.subject_ref != citizen.key
    document = json.dumps(view.to_document(), ensure_ascii=False)
    for value in (citizen.value, SAMPLE_VALUES[FieldType.NAME], SAMPLE_VALUES[FieldType.PHONE]):
        assert value not in document
    assert any(
        entry.action is Action.MASKED and entry.reason is Reason.PERSONAL_DATA
        for entry in view.redactions
    )


def test_an_item_near_the_end_of_its_display_period_leaves_the_public_view(
    archive: Archive, subjects: list[SubjectIdentifier]
) -> None:
    citizen, catalog, now = subjects[0], archive_catalog(), datetime.now(UTC)
    today = local_date(now)
    with unit_of_work(archive.engine) as session:
        records = SqlCreditArchive(session, archive.keys).records_of(citizen)
    (ending,) = [
        record.record_id
        for record in records
        if today < display_ends_on(record, catalog.item(record.item_code)) <= today + WEEK
    ]
    shown = archive.view(Access.public("anyone", citizen), now)
    later = archive.view(Access.public("anyone", citizen), now + WEEK + timedelta(days=1))
    assert ending in {item.record_id for item in shown.items}
    assert ending not in {item.record_id for item in later.items}
    (withheld,) = [entry for entry in later.redactions if entry.record_id == ending]
    assert withheld.reason is Reason.DISPLAY_PERIOD_ENDED


def test_view_for_traces_the_archive_read_and_the_redaction(
    archive: Archive, subjects: list[SubjectIdentifier], spans: InMemorySpanExporter
) -> None:
    legal_person = subjects[-1]
    access = Access.public("x-traced", legal_person)
    view = archive.view(access)
    assert view.subject_ref == legal_person.key  # legal persons are not pseudonymized
    finished = {span.name: span for span in spans.get_finished_spans()}
    assert finished[SPAN_ARCHIVE].attributes == {"archive.kept": False, "archive.records": 20}
    redaction = finished[SPAN_REDACTION].attributes or {}
    assert redaction["redaction.channel"] == "public"
    assert redaction["redaction.items"] == len(view.items)
    assert legal_person.value not in json.dumps(dict(redaction))
    spans.clear()
    assert archive.view(access) is view  # the same revision: the view kept, nothing read
    (read,) = spans.get_finished_spans()
    assert (read.name, read.attributes) == (SPAN_ARCHIVE, {"archive.kept": True})
