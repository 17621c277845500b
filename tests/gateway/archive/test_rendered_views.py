"""A kept view is served only for exactly the inputs it was rendered from (Art. 39-41, 62-66):
another revision of the file, another access, day, pseudonym key, catalog or choice of items
finds nothing; the oldest views make room."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from gateway.archive.views import Rendered, RenderedViews, ViewKey
from redaction.catalog import ScopeCategory
from redaction.engine import render_view
from redaction.policies import Access
from redaction.pseudonym import PseudonymKeys
from tests.redaction.factories import KEYS, NOW, demo_catalog, person

CATALOG = demo_catalog()
KEY = ViewKey(1, Access.own("citizen", person()), CATALOG.version, date(2025, 6, 1), KEYS, None)


def _view() -> Rendered:
    view = render_view((), access=KEY.access, catalog=CATALOG, at=NOW, pseudonym_keys=KEYS)
    return Rendered(view, view.to_document())


def test_the_same_inputs_find_the_view() -> None:
    views, view = RenderedViews(), _view()
    assert views.get(KEY) is None
    views.keep(KEY, view)
    assert views.get(replace(KEY)) is view


@pytest.mark.parametrize(
    "changed",
    [
        replace(KEY, revision=2),
        replace(KEY, revision=None),
        replace(KEY, access=Access.public("anyone", person())),
        replace(KEY, catalog_version="another"),
        replace(KEY, today=KEY.today + timedelta(days=1)),
        replace(KEY, keys=PseudonymKeys(KEYS.master_key, KEYS.version + 1)),
        replace(KEY, categories=frozenset({ScopeCategory.BASIC})),
    ],
    ids=["revision", "no file", "access", "catalog", "day", "pseudonym key", "items"],
)
def test_any_other_input_finds_nothing(changed: ViewKey) -> None:
    views = RenderedViews()
    views.keep(KEY, _view())
    assert views.get(changed) is None


def test_the_oldest_view_makes_room() -> None:
    views, other = RenderedViews(size=1), replace(KEY, revision=2)
    views.keep(KEY, _view())
    views.keep(other, _view())
    assert views.get(KEY) is None and views.get(other) is not None
