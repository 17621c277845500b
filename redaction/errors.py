"""Errors of the redaction area: Art. 27, 34, 35, 37, 39-41, 61(2) and 62 of the regulation.

Every class subclasses :class:`RedactionError` (so the gateway can tell the area apart) and one
of the shared problem types in :mod:`problems` (which fixes the HTTP status). ``detail`` strings
name catalog codes and field names, never identifiers, names or field values.
"""

from __future__ import annotations

from problems import GatewayError, InvalidInput, PolicyDenied


class RedactionError(GatewayError):
    """Base of the redaction area's errors."""


class InvalidIdentifier(RedactionError, InvalidInput):
    """A citizen ID number, credit code or other identity document is malformed."""

    title = "Invalid credit subject identifier"
    slug = "invalid-identifier"
    article = "Art. 34"


class InvalidTimestamp(RedactionError, InvalidInput):
    """A point in time without a UTC offset: periods cannot be evaluated on it."""

    title = "Invalid timestamp"
    slug = "invalid-timestamp"


class CatalogInvalid(RedactionError):
    """The information catalog cannot be loaded: it is a configuration error, not a request's."""

    status = 500
    title = "Invalid information catalog"
    slug = "catalog-invalid"
    article = "Art. 35"


class ProhibitedCategoryDeclared(CatalogInvalid):
    """The catalog declares an item or field of a category that must never be collected."""

    title = "Catalog declares a prohibited category"
    slug = "catalog-prohibited-category"
    article = "Art. 62 para. 1"


class ItemNotInCatalog(RedactionError, InvalidInput):
    title = "Information item not in the catalog"
    slug = "item-not-in-catalog"
    article = "Art. 35"


class ItemNotApplicable(RedactionError, InvalidInput):
    title = "Information item does not apply to this kind of credit subject"
    slug = "item-not-applicable"
    article = "Art. 35"


class FieldNotInCatalog(RedactionError, InvalidInput):
    title = "Field not declared by the catalog item"
    slug = "field-not-in-catalog"
    article = "Art. 35"


class InvalidFieldValue(RedactionError, InvalidInput):
    title = "Invalid field value"
    slug = "invalid-field-value"
    article = "Art. 37"


class NotDesignatedBySector(RedactionError, PolicyDenied):
    """Information on untrustworthiness from a providing unit whose sector does not designate
    the item: designation is the work of the item's own sector's departments."""

    title = "Item not designated by this providing unit's sector"
    slug = "not-designated-by-sector"
    article = "Art. 26 para. 1"


class BasisDocumentRequired(RedactionError, InvalidInput):
    title = "Untrustworthiness record without its basis document"
    slug = "basis-document-required"
    article = "Art. 27"


class ProhibitedInformation(RedactionError, PolicyDenied):
    title = "Information of a prohibited category"
    slug = "prohibited-information"
    article = "Art. 62 para. 1"


class WrittenConsentRequired(RedactionError, PolicyDenied):
    title = "Restricted information without the subject's written consent"
    slug = "written-consent-required"
    article = "Art. 62 para. 2"


class InvalidScope(RedactionError, PolicyDenied):
    """An inquiry without its scope (no sector, legal basis or consented categories), or with
    written consent for categories outside it."""

    title = "Invalid inquiry scope"
    slug = "invalid-scope"
    article = "Art. 39 para. 2"


class InvalidPseudonymKey(RedactionError):
    status = 500
    title = "Invalid pseudonym key"
    slug = "pseudonym-key-invalid"


class WrittenConsentUnknown(RedactionError, PolicyDenied):
    """The written-consent reference of a record resolves to no written consent on file of this
    providing unit for this subject and category, or to one withdrawn."""

    title = "Written consent not on file"
    slug = "written-consent-unknown"
    article = "Art. 62 para. 2"
