"""Archive integrity (Art. 61(3)): every stored record version against the leaf that registered it.

Each version of a record is written with the index of the audit leaf that registered its
change, and that leaf commits to the version's canonical JSON
(:func:`~gateway.archive.repository.committed_version`) and to the record's subject, under salts
the log keeps in its openings. :func:`verify_archive` reads every record with its versions,
leaves and openings, and checks that

* each version opens its leaf's response commitment, and the record's subject the leaf's
  subject commitment: an ``UPDATE`` of a version's content, status or number, or a record moved
  to another subject, is found;
* the versions of a record are 1 to its current version: a ``DELETE`` of a version is found;
* every record-change leaf that commits to a version is the leaf of a stored version: a record
  deleted with all its versions is found, by leaf index.

A purged record (Art. 41) has no content and no subject left: only its versions' numbers and
leaves are checked. Every failure is collected; :class:`~audit.errors.VerificationFailed` names
each record (or leaf) that failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import Engine

from audit.errors import CommitmentMismatch, InvalidLeaf, VerificationFailed
from audit.leaf import AuditEvent, CommitmentDomain, EventKind, check_commitment, decode
from gateway.archive.repository import ArchivedVersion, committed_version, iter_archived_versions
from gateway.audit_log.repository import iter_leaves, log_size

MAX_REPORTED = 20


@dataclass(frozen=True)
class ArchiveReport:
    """How much of the archive was checked against the log."""

    records: int
    versions_checked: int
    purged_versions: int


def verify_archive(engine: Engine) -> ArchiveReport:
    """Check every record version against its audit leaf; raise listing every failure."""
    failures: list[str] = []
    referenced: set[int] = set()
    records = checked = purged = 0
    for record_id, versions in _by_record(iter_archived_versions(engine)):
        records += 1
        failures += _sequence_failures(record_id, versions)
        for version in versions:
            if version.leaf_index is not None:
                referenced.add(version.leaf_index)
            problem = _version_failure(version)
            if problem is not None:
                failures.append(f"record {record_id} version {version.version}: {problem}")
            elif version.purged:
                purged += 1
            else:
                checked += 1
    with engine.connect() as connection:
        size = log_size(connection)
    with closing(iter_leaves(engine, size)) as leaves:
        failures += _unreferenced(leaves, referenced)
    if failures:
        shown = "; ".join(failures[:MAX_REPORTED])
        more = f" (and {len(failures) - MAX_REPORTED} more)" if len(failures) > MAX_REPORTED else ""
        raise VerificationFailed(f"the archive does not match the audit log: {shown}{more}")
    return ArchiveReport(records, checked, purged)


def _by_record(
    versions: Iterable[ArchivedVersion],
) -> Iterable[tuple[str, list[ArchivedVersion]]]:
    current: list[ArchivedVersion] = []
    for version in versions:
        if current and current[0].record_id != version.record_id:
            yield current[0].record_id, current
            current = []
        current.append(version)
    if current:
        yield current[0].record_id, current


def _sequence_failures(record_id: str, versions: list[ArchivedVersion]) -> list[str]:
    found = {v.version for v in versions if v.version is not None}
    expected = set(range(1, versions[0].current_version + 1))
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    failures = []
    if missing:
        failures.append(f"record {record_id}: version(s) {missing} deleted")
    if extra:
        failures.append(f"record {record_id}: version(s) {extra} beyond its current version")
    return failures


def _version_failure(version: ArchivedVersion) -> str | None:
    """Why a stored version does not match its leaf, or None."""
    if version.version is None:
        return None  # a record without versions: reported by its sequence
    if version.leaf_index is None or version.leaf is None:
        return "its audit leaf is missing"
    try:
        event = decode(version.leaf)
    except InvalidLeaf:
        return f"its audit leaf {version.leaf_index} is not a leaf"
    if event.kind is not EventKind.RECORD_CHANGE or not event.response_commitment:
        return f"leaf {version.leaf_index} registers no record version"
    if version.purged:
        return None
    return _commitment_failure(version, event)


def _commitment_failure(version: ArchivedVersion, event: AuditEvent) -> str | None:
    if version.response_salt is None or version.subject_salt is None:
        return f"the openings of leaf {version.leaf_index} are missing"
    if version.subject_key is None:
        return "its record has no subject but was not purged"
    assert version.content is not None and version.status is not None
    assert version.version is not None
    stored = committed_version(version.record_id, version.version, version.status, version.content)
    try:
        check_commitment(
            event.response_commitment, CommitmentDomain.RESPONSE, version.response_salt, stored
        )
    except CommitmentMismatch:
        return f"it differs from what leaf {version.leaf_index} registered"
    try:
        check_commitment(
            event.subject_commitment,
            CommitmentDomain.SUBJECT,
            version.subject_salt,
            version.subject_key.encode(),
        )
    except CommitmentMismatch:
        return f"its subject differs from the one leaf {version.leaf_index} registered"
    return None


def _unreferenced(leaves: Iterable[bytes], referenced: set[int]) -> list[str]:
    """Leaves that registered a record version no stored version points to."""
    failures = []
    for index, leaf in enumerate(leaves):
        if index in referenced:
            continue
        try:
            event = decode(leaf)
        except InvalidLeaf:
            continue  # the log's own verification reports malformed leaves
        if event.kind is EventKind.RECORD_CHANGE and event.response_commitment:
            failures.append(f"leaf {index} registered a record version that is not stored")
    return failures
