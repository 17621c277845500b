"""Rendered views kept by the revision of the file they were rendered from (Art. 39-41, 62-66).

:func:`redaction.engine.render_view` is a pure function of the subject's records, the
:class:`~redaction.policies.Access`, the catalog, the day in the province's calendar and the
pseudonym key. The records are named by the file's revision, which the database draws anew in
the transaction of every change to them (:class:`~gateway.archive.models.ArchiveFile`): a view
is kept by the revision it was read with and by everything else it was rendered from, so a
request reads the revision - one short row, in its own unit of work - and reuses the view only
when nothing of the file changed. A change to a record, a new record, an objection, a purge, a
statement, a new day or another key is another key, on every process. Nothing is ever
invalidated; the oldest views make room (LRU).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from redaction.catalog import ScopeCategory
from redaction.engine import CreditView
from redaction.policies import Access
from redaction.pseudonym import PseudonymKeys

MAX_VIEWS = 4096


@dataclass(frozen=True)
class FileRevision:
    """The revision of a subject's file as a read made with another found it (None: nothing
    was ever held about the subject): :func:`gateway.archive.service.view_for` need not read
    it again."""

    revision: int | None


@dataclass(frozen=True)
class ViewKey:
    """Everything a view is rendered from; ``revision`` None: nothing was ever held about the
    subject; ``categories`` None: every item, else only those categories' items."""

    revision: int | None
    access: Access
    catalog_version: str
    today: date
    keys: PseudonymKeys
    categories: frozenset[ScopeCategory] | None


@dataclass(frozen=True)
class Rendered:
    """A view and its document (:meth:`~redaction.engine.CreditView.to_document`), both made
    once per key and shared: neither is ever changed."""

    view: CreditView
    document: Mapping[str, object]


class RenderedViews:
    """A bounded, thread-safe map from the inputs of a rendering to what it rendered."""

    def __init__(self, size: int = MAX_VIEWS) -> None:
        self._views: OrderedDict[ViewKey, Rendered] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: ViewKey) -> Rendered | None:
        with self._lock:
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
            return found

    def keep(self, key: ViewKey, rendered: Rendered) -> None:
        with self._lock:
            self._views[key] = rendered
            self._views.move_to_end(key)
            if len(self._views) > self._size:
                self._views.popitem(last=False)
