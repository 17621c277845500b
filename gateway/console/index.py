"""The console's index of the audit log: each leaf decoded once into a row of
``oversight_entries`` (:class:`gateway.console.models.OversightEntry`), so that counting
inquiries by day, channel, requester, purpose and outcome is SQL on either backend.

:func:`catch_up` indexes the leaves appended since the last call (:data:`BATCH` at a time, in
transactions of their own; a console page catches up at most :data:`PAGE_MOST` leaves before it
reads, the scheduler's ``oversight-index`` job the rest); the index is derived, so two
processes catching up at once lose nothing - the second one's insert conflicts and is dropped,
and the next call goes on. Days and hours are China Standard Time (Asia/Shanghai has had no
daylight saving time since 1991).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from audit.leaf import AuditEvent, Channel, decode
from gateway.audit_log.models import table
from gateway.audit_log.repository import log_size, read_leaves
from gateway.console.models import OversightEntry
from gateway.portal.i18n import CHINA_STANDARD_TIME

BATCH = 5_000
PAGE_MOST = 20_000
ENTRIES = table(OversightEntry)


def entry_row(leaf_index: int, event: AuditEvent) -> dict[str, object]:
    """The index row of one leaf: what the leaf says, nothing more (no commitment)."""
    at = datetime.fromtimestamp(event.time_ms / 1000, UTC)
    local = at.astimezone(CHINA_STANDARD_TIME)
    authorized = event.channel is Channel.AUTHORIZED_INQUIRY
    return {
        "leaf_index": leaf_index,
        "at": at,
        "day": local.date(),
        "hour": local.hour,
        "kind": event.kind.value,
        "channel": event.channel.value if event.channel else "",
        "requester": event.requester,
        "purpose": event.purpose if authorized else "",
        "outcome": event.outcome.value,
        "reason": event.reason_code,
    }


def catch_up(engine: Engine, most: int | None = None) -> int:
    """Index the leaves not indexed yet (``most`` of them, if given); how many were indexed."""
    indexed = 0
    while most is None or indexed < most:
        with engine.connect() as connection:
            start = connection.execute(select(func.max(ENTRIES.c.leaf_index))).scalar_one()
            start = 0 if start is None else int(start) + 1
            end = min(log_size(connection), start + BATCH)
            if most is not None:
                end = min(end, start + most - indexed)
            if end <= start:
                return indexed
            leaves = read_leaves(connection, start, end)
        rows = [entry_row(start + i, decode(leaf)) for i, leaf in enumerate(leaves)]
        try:
            with engine.begin() as connection:
                connection.execute(insert(ENTRIES), rows)
        except IntegrityError:
            continue  # another process indexed these leaves first
        indexed += len(rows)
    return indexed
