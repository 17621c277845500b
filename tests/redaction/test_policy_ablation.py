"""Rule ablation for redaction/policies.py: every rule of every channel has a deterministic
example that the channel withholds for exactly that rule's reason - and that the channel's
policy without the rule does not withhold for it. Removing a rule from a channel, or making it
allow everything, fails its case; a rule added without an example fails
:func:`test_every_rule_of_every_channel_has_an_example`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest

from redaction.catalog import CatalogItem, ScopeCategory, Sector
from redaction.demo import SAMPLE_VALUES
from redaction.identifiers import SubjectKind
from redaction.policies import (
    APPLIES_TO_SUBJECT,
    NOT_DELETED,
    NOT_PROPERTY_TAX,
    NOT_RESTORED,
    NOT_REVOKED,
    POLICIES,
    PUBLICLY_DISCLOSED,
    WITHIN_CONSENT,
    WITHIN_DISPLAY,
    WITHIN_LEGAL_BASIS,
    WITHIN_RETENTION,
    WITHIN_SHARING_SCOPE,
    WRITTEN_CONSENT,
    Access,
    Channel,
    ChannelPolicy,
    Rule,
)
from redaction.records import CreditRecord, RecordStatus
from tests.redaction.factories import TODAY, demo_catalog, make_record, person

S = ScopeCategory
RECENT = date(2025, 3, 1)  # inside every display period on TODAY
SUBJECT = person()
BASE_ACCESS = {
    Channel.PUBLIC: Access.public("anyone", SUBJECT),
    Channel.SHARING: Access.sharing("agency", SUBJECT, Sector.MARKET_REGULATION),
    Channel.AUTHORITY: Access.authority("agency", SUBJECT, frozenset({S.UNTRUSTWORTHY})),
    Channel.SELF: Access.own("citizen", SUBJECT),
    Channel.AUTHORIZED: Access.authorized("bank", SUBJECT, frozenset({S.UNTRUSTWORTHY})),
}


@dataclass(frozen=True)
class Example:
    record: CreditRecord
    item: CatalogItem
    access: Access


def _item(code: str = "administrative_penalty", **changes: object) -> CatalogItem:
    """A catalog item; ``changes`` bypass the catalog's checks, as a faulty catalog would."""
    return demo_catalog().item(code).model_copy(update=changes)


def _record(code: str = "administrative_penalty", **changes: object) -> CreditRecord:
    item = demo_catalog().item(code)
    fields = {spec.name: SAMPLE_VALUES[spec.type] for spec in item.fields}
    return replace(make_record(code, fields, decided_on=RECENT), **changes)  # type: ignore[arg-type]


def _example(channel: Channel, rule: Rule) -> Example:
    """The base (served by every channel) changed in the one thing ``rule`` is about."""
    record, item, access = _record(), _item(), BASE_ACCESS[channel]
    if rule is APPLIES_TO_SUBJECT:
        item = _item(applies_to=frozenset({SubjectKind.LEGAL}))
    elif rule is WITHIN_RETENTION:
        record = _record(decided_on=date(2019, 1, 1), occurred_on=date(2019, 1, 1))
    elif rule is NOT_REVOKED:
        record = _record(status=RecordStatus.REVOKED)
    elif rule is NOT_RESTORED:
        record = _record(status=RecordStatus.RESTORED)
    elif rule is NOT_DELETED:
        record = _record(status=RecordStatus.DELETED)
    elif rule is PUBLICLY_DISCLOSED:
        item = _item(publicly_disclosed=False)
    elif rule is WITHIN_DISPLAY:
        record = _record(decided_on=date(2021, 6, 1), occurred_on=date(2021, 6, 1))
    elif rule is WITHIN_SHARING_SCOPE:
        access = Access.sharing("agency", SUBJECT, Sector.HOUSING)
    elif rule is WITHIN_LEGAL_BASIS:
        access = Access.authority("agency", SUBJECT, frozenset({S.TRUSTWORTHY}))
    elif rule is NOT_PROPERTY_TAX:
        record = _record("real_estate")
        item = _item("real_estate", sharing_scope=frozenset({Sector.MARKET_REGULATION}))
        if channel is Channel.AUTHORITY:
            access = Access.authority("agency", SUBJECT, frozenset({S.REAL_ESTATE}))
    elif rule is WITHIN_CONSENT:
        access = Access.authorized("bank", SUBJECT, frozenset({S.BASIC}))
    elif rule is WRITTEN_CONSENT:
        record, item = _record("personal_income"), _item("personal_income")
        access = Access.authorized("bank", SUBJECT, frozenset({S.INCOME}))
    return Example(record, item, access)


EXPECTED: dict[Channel, tuple[Rule, ...]] = {
    Channel.PUBLIC: (
        APPLIES_TO_SUBJECT,
        WITHIN_RETENTION,
        NOT_REVOKED,
        NOT_RESTORED,
        NOT_DELETED,
        PUBLICLY_DISCLOSED,
        WITHIN_DISPLAY,
    ),
    Channel.SHARING: (
        APPLIES_TO_SUBJECT,
        WITHIN_RETENTION,
        NOT_REVOKED,
        NOT_RESTORED,
        NOT_DELETED,
        WITHIN_SHARING_SCOPE,
        NOT_PROPERTY_TAX,
    ),
    Channel.AUTHORITY: (
        APPLIES_TO_SUBJECT,
        WITHIN_RETENTION,
        NOT_REVOKED,
        NOT_DELETED,
        WITHIN_LEGAL_BASIS,
        NOT_PROPERTY_TAX,
    ),
    Channel.SELF: (APPLIES_TO_SUBJECT, WITHIN_RETENTION, NOT_DELETED),
    Channel.AUTHORIZED: (
        APPLIES_TO_SUBJECT,
        WITHIN_RETENTION,
        NOT_REVOKED,
        NOT_RESTORED,
        NOT_DELETED,
        WITHIN_CONSENT,
        WRITTEN_CONSENT,
        WITHIN_DISPLAY,
    ),
}
CASES = [(channel, rule) for channel, rules in EXPECTED.items() for rule in rules]


def _without(policy: ChannelPolicy, rule: Rule) -> ChannelPolicy:
    return replace(policy, rules=tuple(kept for kept in policy.rules if kept is not rule))


@pytest.mark.parametrize("channel", list(Channel))
def test_the_base_example_is_served_by_every_channel(channel: Channel) -> None:
    record, item, access = _record(), _item(), BASE_ACCESS[channel]
    assert POLICIES[channel].withheld_because(record, item, access, TODAY) is None


@pytest.mark.parametrize(
    ("channel", "rule"), CASES, ids=[f"{channel}-{rule.reason}" for channel, rule in CASES]
)
def test_each_rule_withholds_its_example_and_nothing_else_does(
    channel: Channel, rule: Rule
) -> None:
    example = _example(channel, rule)
    policy = POLICIES[channel]
    arguments = (example.record, example.item, example.access, TODAY)
    assert policy.withheld_because(*arguments) is rule.reason
    assert _without(policy, rule).withheld_because(*arguments) is not rule.reason


def test_every_rule_of_every_channel_has_an_example() -> None:
    assert {channel: policy.rules for channel, policy in POLICIES.items()} == EXPECTED
