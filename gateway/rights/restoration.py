"""Art. 66: credit restoration - after the unit that designated the untrustworthy conduct
decides to restore the subject's credit, display and sharing of the information stop.

The providing unit that submitted an untrustworthiness record records the restoration decision
(:func:`restore`): the record gets a version with status ``restored`` (the archive's
:func:`~gateway.archive.service.stop_record`, registered in the audit log as the record change
``restored``), and the decision is kept. The channels' policy table then stops displaying and
sharing it (:mod:`redaction.policies`): the subject still sees it, labelled ``restored``, and an
authority acting on a legal basis may read it. The establishments that received it are told at
the display sweep's next round (:mod:`gateway.rights.notices`).
"""

from __future__ import annotations

from gateway.archive.repository import basis_json, owned_record
from gateway.archive.service import RecordChange, archive_catalog, stop_record
from gateway.rights import repository
from gateway.rights.errors import RestorationNotApplicable
from gateway.rights.models import Restoration
from gateway.rights.service import RightsDesk
from redaction.catalog import Category
from redaction.ingest import BasisDocument
from redaction.records import RecordStatus


def restore(
    desk: RightsDesk, provider: str, record_id: str, reason: str, decision: BasisDocument
) -> RecordChange:
    """Stop the display of the provider's untrustworthiness record for its restoration."""
    stored = owned_record(desk.session, provider, record_id)
    item = archive_catalog().get(stored.row.item_code) if stored else None
    if item is not None and item.category is not Category.UNTRUSTWORTHY:
        raise RestorationNotApplicable(
            f"record {record_id} is not information on untrustworthiness"
        )
    change = stop_record(desk.archive(), provider, record_id, RecordStatus.RESTORED, reason)
    document = basis_json(decision)
    assert document is not None  # a decision was given
    restoration = Restoration(
        record_id=record_id, provider=provider, decision=document, recorded_at=desk.now
    )
    repository.add(desk.session, restoration)
    return change
