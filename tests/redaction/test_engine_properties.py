"""Invariants of every view, for random catalogs, records and channels (Art. 39-41, 62-66).

* no value of a prohibited category is served;
* no restricted value reaches a channel without its consent; real estate and tax only the
  subject and whom the subject authorized in writing;
* each channel serves only within its scope (disclosure, sharing scope, legal basis, consent);
* nothing is served after its retention period, nor displayed after its display period;
* every record, version or field absent from the view, or changed, has its redactions entry;
* the public view shows no ID number, mobile or card number of a natural person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redaction.catalog import (
    FREE_CONTENT_TYPES,
    PROPERTY_TAX_CATEGORIES,
    RESTRICTED_CATEGORIES,
    Catalog,
)
from redaction.engine import Action, CreditView, Label, ViewItem, render_view
from redaction.identifiers import SubjectKind, resembles_id_number
from redaction.masking import luhn_valid
from redaction.policies import Access, Channel
from redaction.records import CreditRecord, RecordStatus
from tests.redaction.factories import KEYS, NOW, TODAY, subject_of
from tests.redaction.strategies import PROHIBITED_SAMPLES, accesses, archives, catalogs

PER_CHANNEL = settings(max_examples=80, deadline=None)


@dataclass(frozen=True)
class Scenario:
    catalog: Catalog
    records: tuple[CreditRecord, ...]
    access: Access
    view: CreditView

    @property
    def kind(self) -> SubjectKind:
        return self.access.subject.subject_kind

    def served_versions(self) -> Iterator[ViewItem]:
        for item in self.view.items:
            yield item
            yield from item.history

    def record(self, record_id: str) -> CreditRecord:
        return next(record for record in self.records if record.record_id == record_id)


@st.composite
def scenarios(draw: st.DrawFn, channel: Channel) -> Scenario:
    catalog = draw(catalogs())
    kind = draw(st.sampled_from([SubjectKind.NATURAL, SubjectKind.NATURAL, SubjectKind.LEGAL]))
    subject = subject_of(kind)
    held = draw(archives(catalog))
    access = draw(accesses(subject, channel))
    view = render_view(held, access=access, catalog=catalog, at=NOW, pseudonym_keys=KEYS)
    return Scenario(catalog, held, access, view)


def no_prohibited_value_is_served(scenario: Scenario) -> None:
    for version in scenario.served_versions():
        item = scenario.catalog.item(version.item_code)
        for name, value in version.fields.items():
            spec = item.field(name)
            assert spec is not None
            if spec.type in FREE_CONTENT_TYPES and (
                scenario.kind is SubjectKind.NATURAL or spec.personal
            ):
                assert not any(term.casefold() in value.casefold() for term in PROHIBITED_SAMPLES)


def no_restricted_value_without_its_consent(scenario: Scenario) -> None:
    channel = scenario.access.channel
    for version in scenario.served_versions():
        category = version.scope_category
        if category not in RESTRICTED_CATEGORIES:
            continue
        assert channel is not Channel.PUBLIC
        if channel is Channel.AUTHORIZED:
            assert category in scenario.access.written_consent
        if category in PROPERTY_TAX_CATEGORIES:
            assert channel in {Channel.SELF, Channel.AUTHORIZED}


def served_within_the_channel_scope(scenario: Scenario) -> None:
    access = scenario.access
    for version in scenario.view.items:
        item = scenario.catalog.item(version.item_code)
        assert access.subject.subject_kind in item.applies_to
        within = {
            Channel.PUBLIC: item.publicly_disclosed,
            Channel.SHARING: access.sector in item.sharing_scope,
            Channel.AUTHORITY: item.scope_category in access.categories,
            Channel.SELF: True,
            Channel.AUTHORIZED: item.scope_category in access.categories,
        }
        assert within[access.channel]


def nothing_is_served_after_its_periods(scenario: Scenario) -> None:
    displayed = scenario.access.channel in {Channel.PUBLIC, Channel.AUTHORIZED}
    for version in scenario.view.items:
        item = scenario.catalog.item(version.item_code)
        start = version.decided_on or version.occurred_on
        assert item.retention_period.after(start) > TODAY
        if displayed:
            assert item.display_period.after(start) > TODAY


def every_absence_and_change_is_explained(scenario: Scenario) -> None:
    entries = {
        (entry.record_id, entry.version, entry.field): entry for entry in scenario.view.redactions
    }
    served = {
        (version.record_id, version.version): version for version in scenario.served_versions()
    }
    for record in scenario.records:
        for version in record.versions:
            key = (version.record_id, version.version)
            if key not in served:
                assert entries[(*key, None)].action is Action.WITHHELD
                continue
            shown = served[key].fields
            assert set(shown) <= set(version.fields)
            for name, value in version.fields.items():
                if name not in shown:
                    assert entries[(*key, name)].action is Action.WITHHELD
                elif shown[name] != value:
                    assert entries[(*key, name)].action is Action.MASKED
    assert all(entry.article.startswith("Art. ") for entry in scenario.view.redactions)


def labels_and_statuses_are_kept(scenario: Scenario) -> None:
    channel = scenario.access.channel
    for version in scenario.view.items:
        record = scenario.record(version.record_id)
        assert (Label.UNDER_OBJECTION in version.labels) == record.under_objection
        assert record.status is not RecordStatus.DELETED
        if channel in {Channel.PUBLIC, Channel.SHARING, Channel.AUTHORIZED}:
            assert record.status is RecordStatus.ACTIVE
        if channel is not Channel.SELF:
            assert version.history == ()


_ID_RUN = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE_RUN = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_DIGIT_RUN = re.compile(r"[0-9]{12,19}")


def public_view_shows_no_identifiers_of_natural_persons(scenario: Scenario) -> None:
    if scenario.access.channel is not Channel.PUBLIC:
        return
    document = json.dumps(scenario.view.to_document(), ensure_ascii=False)
    assert not any(resembles_id_number(run) for run in _ID_RUN.findall(document))
    for version in scenario.view.items:
        item = scenario.catalog.item(version.item_code)
        for name, value in version.fields.items():
            spec = item.field(name)
            assert spec is not None
            if spec.personal or spec.type in FREE_CONTENT_TYPES:
                assert not _MOBILE_RUN.search(value)
                assert not any(luhn_valid(run) for run in _DIGIT_RUN.findall(value))


INVARIANTS = (
    no_prohibited_value_is_served,
    no_restricted_value_without_its_consent,
    served_within_the_channel_scope,
    nothing_is_served_after_its_periods,
    every_absence_and_change_is_explained,
    labels_and_statuses_are_kept,
    public_view_shows_no_identifiers_of_natural_persons,
)


@pytest.mark.parametrize("channel", list(Channel))
@PER_CHANNEL
@given(data=st.data())
def test_every_view_keeps_the_invariants(channel: Channel, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(channel))
    for invariant in INVARIANTS:
        invariant(scenario)
