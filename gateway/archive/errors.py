"""Errors of the archive's service edge (Art. 37, 61(3), 62 para. 2); the rules' own are in
redaction.errors.

``detail`` names record ids and provider record ids, never an identifier or a field value.
"""

from __future__ import annotations

from problems import Conflict, NotFound


class RecordNotFound(NotFound):
    """No such record of this providing unit; another unit's record answers the same. The
    article is that of the change refused: a correction (Art. 37 para. 1), a basis document's
    change (Art. 65), a restoration (Art. 66 para. 2), an objection (Art. 64)."""

    title = "Record not found"
    slug = "record-not-found"
    article = "Art. 37 para. 1"


class ProviderRecordConflict(Conflict):
    """The provider record id already names other content: changes go through a correction."""

    title = "Provider record id already used"
    slug = "provider-record-conflict"
    article = "Art. 61(3)"


class RecordNotActive(Conflict):
    """The record was revoked, restored or deleted: it can no longer be corrected. The article
    is the one that stopped it (Art. 65, Art. 66 para. 2, Art. 64 para. 1)."""

    title = "Record no longer active"
    slug = "record-not-active"
    article = "Art. 65"


class ConcurrentChange(Conflict):
    """Another change of the same record, or a submission of the same provider record id,
    was committed meanwhile; nothing of this one was stored."""

    title = "Concurrent change"
    slug = "record-concurrent-change"


class WrittenConsentNotFound(NotFound):
    """No written consent of this subject by that reference, or no providing unit by that id."""

    title = "Written consent not found"
    slug = "written-consent-not-found"
    article = "Art. 62 para. 2"


class WrittenConsentConflict(Conflict):
    """The providing unit already registered another written consent under that reference."""

    title = "Written-consent reference already used"
    slug = "written-consent-conflict"
    article = "Art. 62 para. 2"
