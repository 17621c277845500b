"""Rendered views kept by everything they are rendered from (Art. 39-41, 62-66).

:func:`redaction.engine.render_view` is a pure function of the subject's records, the
:class:`~redaction.policies.Access`, the catalog, the day in the province's calendar and the
pseudonym key. :class:`RenderedViews` keeps its results keyed by ALL of these - each record's
every field, its status, objection and history included - so a view is reused only for exactly
the records the request has just read in its own unit of work: a change to a record, a new
record, a revocation, a purge or a new day is a different key, on every process, and the view
is rendered afresh. Nothing is ever invalidated; the oldest views make room (LRU).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import date

from redaction.catalog import Catalog
from redaction.engine import CreditView
from redaction.policies import Access
from redaction.pseudonym import PseudonymKeys
from redaction.records import CreditRecord

MAX_VIEWS = 4096


class RenderedViews:
    """A bounded, thread-safe map from the inputs of a rendering to the view it rendered."""

    def __init__(self, size: int = MAX_VIEWS) -> None:
        self._views: OrderedDict[Hashable, CreditView] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def view(
        self,
        records: Sequence[CreditRecord],
        access: Access,
        catalog: Catalog,
        today: date,
        keys: PseudonymKeys,
        render: Callable[[], CreditView],
    ) -> CreditView:
        """The view of exactly these inputs: kept, or rendered by ``render`` and kept."""
        key = (access, catalog.version, today, keys, tuple(map(_record_key, records)))
        try:
            hash(key)
        except TypeError:  # a field value that cannot be a key: rendered, not kept
            return render()
        with self._lock:
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return found
        view = render()
        with self._lock:
            self._views[key] = view
            if len(self._views) > self._size:
                self._views.popitem(last=False)
        return view


def _record_key(record: CreditRecord) -> Hashable:
    return (
        record.record_id,
        record.item_code,
        record.version,
        tuple(record.fields.items()),
        record.source,
        record.occurred_on,
        record.decided_on,
        record.status,
        record.under_objection,
        record.change_reason,
        tuple(map(_record_key, record.history)),
    )
