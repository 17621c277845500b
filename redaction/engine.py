"""Art. 39-41 and 62-66: the view of a subject's credit records that one inquiry may see.

:func:`render_view` takes the subject's records (current versions with their history), the
:class:`~redaction.policies.Access` of the inquiry, the catalog, the time and the pseudonym keys,
and returns a :class:`CreditView`: the items served, and a ``redactions`` list explaining every
record, version or field left out or changed — what happened (withheld, masked, pseudonymized),
the reason code and the article that required it. Record-level decisions come from the channel
policy table (:mod:`redaction.policies`); then, per field of a served version:

* a field the catalog item does not declare is withheld (Art. 35);
* a screened field mentioning a prohibited category is withheld (Art. 62 para. 1) — records
  are checked again on the way out, whatever their origin;
* masking by the channel's level (Art. 40 para. 2, :mod:`redaction.masking`): in the public
  view every personal field by its type; outside the self view, ID, mobile and card numbers
  inside free-text and string fields (they may name third persons).

What the subject attached to a record - statements, self-declarations, pledges (Art. 37
para. 2) - is served with it in every view that serves it, as ``subject_statements`` labelled
``by`` ``credit_subject``: masked and screened like free text (a statement mentioning a
prohibited category is withheld).

Items under objection carry the label ``under_objection`` in every view and are still disclosed
(Art. 64); revoked and restored ones carry ``revoked`` / ``restored`` where they are still
served. In the public view a natural person is referred to by a keyed pseudonym
(:mod:`redaction.pseudonym`) rather than the identifier.

``redactions`` is complete, for the query register (Art. 39 para. 3) and the subject. Entries for
whole records tell that a record exists; :meth:`CreditView.requester_redactions` (used by
:meth:`CreditView.to_document`) therefore keeps them only in the subject's own view and gives
other requesters the entries about what they were served.

The gateway reads records through :class:`CreditArchive`; :func:`credit_report` composes both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from redaction.catalog import (
    FREE_CONTENT_TYPES,
    Catalog,
    CatalogItem,
    Category,
    FieldSpec,
    ScopeCategory,
)
from redaction.identifiers import SubjectIdentifier, SubjectKind
from redaction.masking import mask_identifiers_in_text, mask_personal
from redaction.periods import local_date
from redaction.policies import ARTICLES, POLICIES, Access, Channel, ChannelPolicy, Masking, Reason
from redaction.prohibited import find_prohibited
from redaction.pseudonym import PseudonymKeys
from redaction.records import CreditRecord, RecordStatus
from redaction.statements import BY_SUBJECT, SubjectStatement


class Action(StrEnum):
    WITHHELD = "withheld"
    MASKED = "masked"
    PSEUDONYMIZED = "pseudonymized"


class Label(StrEnum):
    UNDER_OBJECTION = "under_objection"
    REVOKED = "revoked"
    RESTORED = "restored"


_STATUS_LABELS = {RecordStatus.REVOKED: Label.REVOKED, RecordStatus.RESTORED: Label.RESTORED}
STATEMENTS = "subject_statements"


@dataclass(frozen=True, slots=True)
class Redaction:
    """One thing left out or changed. ``field`` None with a ``record_id``: the whole version."""

    action: Action
    reason: Reason
    article: str
    record_id: str | None = None
    item_code: str | None = None
    version: int | None = None
    field: str | None = None

    @property
    def whole_record(self) -> bool:
        return self.record_id is not None and self.field is None

    def to_document(self) -> dict[str, object]:
        return {
            name: value
            for name, value in (
                ("action", self.action.value),
                ("reason", self.reason.value),
                ("article", self.article),
                ("record_id", self.record_id),
                ("item_code", self.item_code),
                ("version", self.version),
                ("field", self.field),
            )
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class ViewItem:
    record_id: str
    item_code: str
    scope_category: ScopeCategory
    category: Category  # the catalog's (not in the document: its scope category is)
    version: int
    source: str
    occurred_on: date
    decided_on: date | None
    fields: dict[str, str]
    labels: frozenset[Label]
    change_reason: str | None = None
    history: tuple[ViewItem, ...] = ()
    statements: tuple[SubjectStatement, ...] = ()

    def to_document(self) -> dict[str, object]:
        statements = [
            {
                "by": BY_SUBJECT,
                "kind": statement.kind.value,
                "text": statement.text,
                "made_on": statement.made_on.isoformat(),
            }
            for statement in self.statements
        ]
        return {
            "record_id": self.record_id,
            "item_code": self.item_code,
            "scope_category": self.scope_category.value,
            "version": self.version,
            "source": self.source,
            "occurred_on": self.occurred_on.isoformat(),
            "decided_on": self.decided_on.isoformat() if self.decided_on else None,
            "fields": self.fields,
            "labels": sorted(self.labels),
            "change_reason": self.change_reason,
            "history": [version.to_document() for version in self.history],
            "subject_statements": statements,
        }


@dataclass(frozen=True, slots=True)
class CreditView:
    channel: Channel
    subject_ref: str
    catalog_version: str
    items: tuple[ViewItem, ...]
    redactions: tuple[Redaction, ...]

    def requester_redactions(self) -> tuple[Redaction, ...]:
        """The redactions the requester may see: all for the subject, field-level for others."""
        if self.channel is Channel.SELF:
            return self.redactions
        return tuple(entry for entry in self.redactions if not entry.whole_record)

    def to_document(self) -> dict[str, object]:
        return {
            "channel": self.channel.value,
            "subject": self.subject_ref,
            "catalog_version": self.catalog_version,
            "items": [item.to_document() for item in self.items],
            "redactions": [entry.to_document() for entry in self.requester_redactions()],
        }


def desensitized(spec: FieldSpec, value: str) -> tuple[str, Reason | None]:
    """``value`` as it leaves for someone other than its subject (Art. 40): personal data and
    identifiers in free text masked; with the reason when that changed it."""
    masker = _masker(spec, Masking.PERSONAL_DATA)
    if masker is None:
        return value, None
    mask, reason = masker
    masked = mask(value)
    return (masked, reason) if masked != value else (value, None)


def _masker(spec: FieldSpec, masking: Masking) -> tuple[Callable[[str], str], Reason] | None:
    if masking is Masking.PERSONAL_DATA and spec.personal:
        return lambda value: mask_personal(spec.type, value), Reason.PERSONAL_DATA
    if masking is not Masking.NONE and spec.type in FREE_CONTENT_TYPES:
        return mask_identifiers_in_text, Reason.IDENTIFIER_IN_TEXT
    return None


@dataclass(slots=True)
class _ViewBuilder:
    access: Access
    policy: ChannelPolicy
    redactions: list[Redaction] = field(default_factory=list)
    subject_kind: SubjectKind = field(init=False)

    def __post_init__(self) -> None:
        self.subject_kind = self.access.subject.subject_kind

    def note(self, action: Action, reason: Reason, version: CreditRecord, name: str | None) -> None:
        self.redactions.append(
            Redaction(
                action,
                reason,
                ARTICLES[reason],
                version.record_id,
                version.item_code,
                version.version,
                name,
            )
        )

    def record(
        self, record: CreditRecord, item: CatalogItem | None, today: date
    ) -> ViewItem | None:
        if item is None:
            self.withhold(record, Reason.NOT_IN_CATALOG)
            return None
        reason = self.policy.withheld_because(record, item, self.access, today)
        if reason is not None:
            self.withhold(record, reason)
            return None
        history = self.history(record, item)
        return self.version(record, item, history, self.statements(record))

    def withhold(self, record: CreditRecord, reason: Reason) -> None:
        for version in record.versions:
            self.note(Action.WITHHELD, reason, version, None)

    def history(self, record: CreditRecord, item: CatalogItem) -> tuple[ViewItem, ...]:
        if self.policy.history:
            return tuple(self.version(version, item, ()) for version in record.history)
        for version in record.history:
            self.note(Action.WITHHELD, Reason.HISTORY_SELF_ONLY, version, None)
        return ()

    def version(
        self,
        version: CreditRecord,
        item: CatalogItem,
        history: tuple[ViewItem, ...],
        statements: tuple[SubjectStatement, ...] = (),
    ) -> ViewItem:
        labels = {Label.UNDER_OBJECTION} if version.under_objection else set()
        if version.status in _STATUS_LABELS:
            labels.add(_STATUS_LABELS[version.status])
        return ViewItem(
            record_id=version.record_id,
            item_code=version.item_code,
            scope_category=item.scope_category,
            category=item.category,
            version=version.version,
            source=version.source,
            occurred_on=version.occurred_on,
            decided_on=version.decided_on,
            fields=self.fields(version, item),
            labels=frozenset(labels),
            change_reason=version.change_reason if self.policy.history else None,
            history=history,
            statements=statements,
        )

    def fields(self, version: CreditRecord, item: CatalogItem) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name, value in version.fields.items():
            spec = item.field(name)
            if spec is None:
                self.note(Action.WITHHELD, Reason.FIELD_NOT_IN_CATALOG, version, name)
            elif spec.prohibited_content(value, self.subject_kind) is not None:
                self.note(Action.WITHHELD, Reason.PROHIBITED_CONTENT, version, name)
            else:
                shown[name] = self.masked(spec, value, version)
        return shown

    def statements(self, record: CreditRecord) -> tuple[SubjectStatement, ...]:
        """The subject's statements on the record, screened and masked like free text."""
        if not record.statements:
            return ()
        served = []
        for statement in record.statements:
            if find_prohibited(statement.text) is not None:
                self.note(Action.WITHHELD, Reason.PROHIBITED_CONTENT, record, STATEMENTS)
                continue
            text = statement.text
            if self.policy.masking is not Masking.NONE:
                text = mask_identifiers_in_text(text)
            if text != statement.text:
                self.note(Action.MASKED, Reason.IDENTIFIER_IN_TEXT, record, STATEMENTS)
            served.append(replace(statement, text=text))
        return tuple(served)

    def masked(self, spec: FieldSpec, value: str, version: CreditRecord) -> str:
        masker = _masker(spec, self.policy.masking)
        if masker is None:
            return value
        mask, reason = masker
        masked = mask(value)
        if masked != value:
            self.note(Action.MASKED, reason, version, spec.name)
        return masked

    def subject_ref(self, keys: PseudonymKeys) -> str:
        subject = self.access.subject
        if not self.policy.pseudonymous_subject or subject.subject_kind is SubjectKind.LEGAL:
            return subject.key
        reason = Reason.SUBJECT_PSEUDONYMIZED
        self.redactions.append(
            Redaction(Action.PSEUDONYMIZED, reason, ARTICLES[reason], field="subject")
        )
        return keys.pseudonym(self.access.requester_id, subject.key)


def render_view(
    records: Iterable[CreditRecord],
    *,
    access: Access,
    catalog: Catalog,
    at: datetime,
    pseudonym_keys: PseudonymKeys,
) -> CreditView:
    """The view ``access`` may see of the subject's ``records`` at the aware time ``at``."""
    today = local_date(at)
    builder = _ViewBuilder(access, POLICIES[access.channel])
    items = tuple(
        view
        for record in records
        if (view := builder.record(record, catalog.get(record.item_code), today)) is not None
    )
    subject_ref = builder.subject_ref(pseudonym_keys)
    return CreditView(
        access.channel, subject_ref, catalog.version, items, tuple(builder.redactions)
    )


class CreditArchive(Protocol):
    """The gateway's store of credit records (its repository implements this)."""

    def records_of(self, subject: SubjectIdentifier) -> Sequence[CreditRecord]:
        """Every record held about ``subject``, current versions with their history."""
        ...


def credit_report(
    archive: CreditArchive,
    *,
    access: Access,
    catalog: Catalog,
    at: datetime,
    pseudonym_keys: PseudonymKeys,
) -> CreditView:
    """Read the subject's records from the archive and render the view ``access`` may see."""
    return render_view(
        archive.records_of(access.subject),
        access=access,
        catalog=catalog,
        at=at,
        pseudonym_keys=pseudonym_keys,
    )
