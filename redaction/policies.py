"""Art. 39-41 and 61-66: the five disclosure channels, and in one table what each may serve.

Every record goes through the rules of its channel in order; the first rule that does not allow
it withholds the whole record (with its history) and names the reason. All channels start with
"the item applies to this kind of subject" (Art. 35) and "the retention period has not ended"
(Art. 41 para. 2: after it nothing is served, not even to the subject). Then:

=========== ===================================================================== ==========
channel     record rules after the common ones                                    masking
=========== ===================================================================== ==========
public      not revoked / restored / deleted; publicly disclosed (restricted      personal
            items never are, see the catalog); display period running (Art. 41)   data
sharing     not revoked / restored / deleted; the agency's sector is in the       identifiers
            item's sharing scope; never real estate or tax (Art. 62 para. 3)      in text
authority   not revoked / deleted; the item's scope category is among the stated  identifiers
            legal basis's; never real estate or tax (Art. 62 para. 3)             in text
self        not deleted; everything else held, restricted included, with history  none
authorized  not revoked / restored / deleted; scope category granted; restricted  identifiers
            categories only with their written consent; display period running    in text
=========== ===================================================================== ==========

Revoked (Art. 65) and restored (Art. 66) records stay visible to the subject, labelled; restored
ones also to authorities acting on a legal basis, which is neither display nor sharing. Deleted
records (Art. 64) are served to nobody; the subject's view says they were deleted. Version
history and change reasons are the subject's right (Art. 63) and appear only in the self view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from redaction.catalog import (
    PROPERTY_TAX_CATEGORIES,
    RESTRICTED_CATEGORIES,
    CatalogItem,
    ScopeCategory,
    Sector,
)
from redaction.errors import InvalidScope
from redaction.identifiers import SubjectIdentifier
from redaction.records import CreditRecord, RecordStatus, display_ends_on, retention_ends_on


class Channel(StrEnum):
    """The disclosure methods of Art. 39 para. 1."""

    PUBLIC = "public"
    SHARING = "sharing"
    AUTHORITY = "authority"
    SELF = "self"
    AUTHORIZED = "authorized"


class Reason(StrEnum):
    """Why a record or field was withheld, masked or pseudonymized."""

    NOT_IN_CATALOG = "not_in_catalog"
    NOT_APPLICABLE = "item_not_applicable"
    RETENTION_PERIOD_ENDED = "retention_period_ended"
    REVOKED = "revoked"
    RESTORED = "restored"
    DELETED = "deleted"
    NOT_PUBLICLY_DISCLOSED = "not_publicly_disclosed"
    DISPLAY_PERIOD_ENDED = "display_period_ended"
    OUTSIDE_SHARING_SCOPE = "outside_sharing_scope"
    OUTSIDE_LEGAL_BASIS = "outside_legal_basis"
    PROPERTY_TAX_SUBJECT_ONLY = "property_tax_subject_only"
    OUTSIDE_CONSENT = "outside_consent_scope"
    WRITTEN_CONSENT_MISSING = "written_consent_missing"
    HISTORY_SELF_ONLY = "history_self_only"
    FIELD_NOT_IN_CATALOG = "field_not_in_catalog"
    PROHIBITED_CONTENT = "prohibited_content"
    PERSONAL_DATA = "personal_data"
    IDENTIFIER_IN_TEXT = "identifier_in_text"
    SUBJECT_PSEUDONYMIZED = "subject_pseudonymized"


ARTICLES: dict[Reason, str] = {
    Reason.NOT_IN_CATALOG: "Art. 35",
    Reason.NOT_APPLICABLE: "Art. 35",
    Reason.RETENTION_PERIOD_ENDED: "Art. 41 para. 2",
    Reason.REVOKED: "Art. 65",
    Reason.RESTORED: "Art. 66 para. 2",
    Reason.DELETED: "Art. 64 para. 1",
    Reason.NOT_PUBLICLY_DISCLOSED: "Art. 39 para. 2",
    Reason.DISPLAY_PERIOD_ENDED: "Art. 41 para. 2",
    Reason.OUTSIDE_SHARING_SCOPE: "Art. 39 para. 2",
    Reason.OUTSIDE_LEGAL_BASIS: "Art. 40 para. 1",
    Reason.PROPERTY_TAX_SUBJECT_ONLY: "Art. 62 para. 3",
    Reason.OUTSIDE_CONSENT: "Art. 61(2)",
    Reason.WRITTEN_CONSENT_MISSING: "Art. 62 para. 2",
    Reason.HISTORY_SELF_ONLY: "Art. 63",
    Reason.FIELD_NOT_IN_CATALOG: "Art. 35",
    Reason.PROHIBITED_CONTENT: "Art. 62 para. 1",
    Reason.PERSONAL_DATA: "Art. 40 para. 2",
    Reason.IDENTIFIER_IN_TEXT: "Art. 40 para. 2",
    Reason.SUBJECT_PSEUDONYMIZED: "Art. 40 para. 2",
}


class Masking(StrEnum):
    NONE = "none"
    IDENTIFIERS_IN_TEXT = "identifiers_in_text"
    PERSONAL_DATA = "personal_data"


@dataclass(frozen=True, slots=True)
class Access:
    """Who asks about whom, through which channel, within which scope.

    ``categories``: the granted consent scope (authorized) or the stated legal basis's scope
    categories (authority). ``written_consent``: the restricted categories the subject gave
    separate written consent for (authorized). ``sector``: the agency's sector (sharing).
    Build with the named constructors; an inquiry without its scope raises
    :class:`~redaction.errors.InvalidScope` (fail closed).
    """

    channel: Channel
    requester_id: str
    subject: SubjectIdentifier
    categories: frozenset[ScopeCategory] = frozenset()
    written_consent: frozenset[ScopeCategory] = frozenset()
    sector: Sector | None = None

    def __post_init__(self) -> None:
        if self.channel is Channel.SHARING and self.sector is None:
            raise InvalidScope("government affairs sharing names the agency's sector")
        if self.channel is Channel.AUTHORITY and not self.categories:
            raise InvalidScope("an inquiry on authority states its legal basis", article="Art. 40")
        if self.channel is Channel.AUTHORIZED and not self.categories:
            raise InvalidScope("an authorized inquiry needs a consent", article="Art. 61(2)")
        if not self.written_consent <= self.categories & RESTRICTED_CATEGORIES:
            raise InvalidScope(
                "written consent covers restricted categories of the consent only",
                article="Art. 62 para. 2",
            )

    @classmethod
    def public(cls, requester_id: str, subject: SubjectIdentifier) -> Access:
        return cls(Channel.PUBLIC, requester_id, subject)

    @classmethod
    def sharing(cls, requester_id: str, subject: SubjectIdentifier, sector: Sector) -> Access:
        return cls(Channel.SHARING, requester_id, subject, sector=sector)

    @classmethod
    def authority(
        cls, requester_id: str, subject: SubjectIdentifier, legal_basis: frozenset[ScopeCategory]
    ) -> Access:
        return cls(Channel.AUTHORITY, requester_id, subject, categories=legal_basis)

    @classmethod
    def own(cls, requester_id: str, subject: SubjectIdentifier) -> Access:
        """The subject's real-name verified inquiry into their own information."""
        return cls(Channel.SELF, requester_id, subject)

    @classmethod
    def authorized(
        cls,
        requester_id: str,
        subject: SubjectIdentifier,
        granted: frozenset[ScopeCategory],
        written_consent: frozenset[ScopeCategory] = frozenset(),
    ) -> Access:
        return cls(Channel.AUTHORIZED, requester_id, subject, granted, written_consent)


@dataclass(frozen=True, slots=True)
class Rule:
    """A record is withheld for ``reason`` unless ``allows(record, item, access, today)``."""

    reason: Reason
    allows: Callable[[CreditRecord, CatalogItem, Access, date], bool]


def _status_is_not(status: RecordStatus, reason: Reason) -> Rule:
    return Rule(reason, lambda record, _item, _access, _today: record.status is not status)


APPLIES_TO_SUBJECT = Rule(
    Reason.NOT_APPLICABLE,
    lambda _record, item, access, _today: access.subject.subject_kind in item.applies_to,
)
WITHIN_RETENTION = Rule(
    Reason.RETENTION_PERIOD_ENDED,
    lambda record, item, _access, today: today < retention_ends_on(record, item),
)
NOT_REVOKED = _status_is_not(RecordStatus.REVOKED, Reason.REVOKED)
NOT_RESTORED = _status_is_not(RecordStatus.RESTORED, Reason.RESTORED)
NOT_DELETED = _status_is_not(RecordStatus.DELETED, Reason.DELETED)
PUBLICLY_DISCLOSED = Rule(
    Reason.NOT_PUBLICLY_DISCLOSED, lambda _record, item, _access, _today: item.publicly_disclosed
)
WITHIN_DISPLAY = Rule(
    Reason.DISPLAY_PERIOD_ENDED,
    lambda record, item, _access, today: today < display_ends_on(record, item),
)
WITHIN_SHARING_SCOPE = Rule(
    Reason.OUTSIDE_SHARING_SCOPE,
    lambda _record, item, access, _today: access.sector in item.sharing_scope,
)


def _category_requested(
    _record: CreditRecord, item: CatalogItem, access: Access, _today: date
) -> bool:
    return item.scope_category in access.categories


WITHIN_LEGAL_BASIS = Rule(Reason.OUTSIDE_LEGAL_BASIS, _category_requested)
NOT_PROPERTY_TAX = Rule(
    Reason.PROPERTY_TAX_SUBJECT_ONLY,
    lambda _record, item, _access, _today: item.scope_category not in PROPERTY_TAX_CATEGORIES,
)
WITHIN_CONSENT = Rule(Reason.OUTSIDE_CONSENT, _category_requested)
WRITTEN_CONSENT = Rule(
    Reason.WRITTEN_CONSENT_MISSING,
    lambda _record, item, access, _today: (
        not item.restricted or item.scope_category in access.written_consent
    ),
)


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    rules: tuple[Rule, ...]
    masking: Masking
    history: bool = False
    pseudonymous_subject: bool = False

    def withheld_because(
        self, record: CreditRecord, item: CatalogItem, access: Access, today: date
    ) -> Reason | None:
        """The reason of the first rule that withholds the record, or None if it is served."""
        for rule in self.rules:
            if not rule.allows(record, item, access, today):
                return rule.reason
        return None


_COMMON = (APPLIES_TO_SUBJECT, WITHIN_RETENTION)
_NOT_STOPPED = (NOT_REVOKED, NOT_RESTORED, NOT_DELETED)

POLICIES: dict[Channel, ChannelPolicy] = {
    Channel.PUBLIC: ChannelPolicy(
        (*_COMMON, *_NOT_STOPPED, PUBLICLY_DISCLOSED, WITHIN_DISPLAY),
        Masking.PERSONAL_DATA,
        pseudonymous_subject=True,
    ),
    Channel.SHARING: ChannelPolicy(
        (*_COMMON, *_NOT_STOPPED, WITHIN_SHARING_SCOPE, NOT_PROPERTY_TAX),
        Masking.IDENTIFIERS_IN_TEXT,
    ),
    Channel.AUTHORITY: ChannelPolicy(
        (*_COMMON, NOT_REVOKED, NOT_DELETED, WITHIN_LEGAL_BASIS, NOT_PROPERTY_TAX),
        Masking.IDENTIFIERS_IN_TEXT,
    ),
    Channel.SELF: ChannelPolicy((*_COMMON, NOT_DELETED), Masking.NONE, history=True),
    Channel.AUTHORIZED: ChannelPolicy(
        (*_COMMON, *_NOT_STOPPED, WITHIN_CONSENT, WRITTEN_CONSENT, WITHIN_DISPLAY),
        Masking.IDENTIFIERS_IN_TEXT,
    ),
}
