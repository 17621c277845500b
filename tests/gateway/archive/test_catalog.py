"""``GET /v1/catalog``: the catalog in force, as published (Art. 35, 36, 62), for anyone."""

from __future__ import annotations

from gateway.archive.service import archive_catalog
from redaction.catalog import parse_catalog
from redaction.prohibited import ProhibitedCategory, screen
from tests.gateway.archive.factories import Archive


def test_the_catalog_is_published_with_every_declared_property(archive: Archive) -> None:
    response = archive.client.get("/v1/catalog")
    assert response.status_code == 200
    body = response.json()
    catalog = archive_catalog()
    assert body["version"] == catalog.version
    published = {name: body[name] for name in ("catalog", "version", "title", "items")}
    assert published == catalog.to_document()
    assert parse_catalog(published) == catalog
    restricted = next(item for item in body["items"] if item["code"] == "real_estate")
    assert restricted["sensitivity"] == "restricted-property-tax"
    assert restricted["sharing_scope"] == [] and restricted["publicly_disclosed"] is False
    assert restricted["display_period"] == "P1Y" and restricted["retention_period"] == "P5Y"


def test_prohibited_categories_are_listed_as_refused(archive: Archive) -> None:
    refused = archive.client.get("/v1/catalog").json()["refused"]
    assert refused == {
        "article": "Art. 62 para. 1",
        "categories": [category.value for category in ProhibitedCategory],
        "lexicon": screen().version,
    }
    assert "illness_or_medical_history@" in refused["lexicon"]
