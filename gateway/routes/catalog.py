"""The published catalog of information items (Art. 35, 36, 62): anyone may read it."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.archive.schemas import PublishedCatalog, published_catalog
from gateway.archive.service import archive_catalog
from gateway.validation import StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["catalog"])


@router.get(
    "/v1/catalog",
    summary="The catalog in force: every item's category, sensitivity, periods and scope",
    openapi_extra={"security": []},
)
def read_catalog() -> PublishedCatalog:
    return published_catalog(archive_catalog())
