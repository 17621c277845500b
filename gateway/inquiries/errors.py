"""Errors of the inquiry channels' HTTP edge (Art. 39); the channels' own refusals are in
:mod:`consent.errors` and :mod:`redaction.errors`.

``detail`` and ``errors`` say where the request is malformed, never a submitted value.
"""

from __future__ import annotations

from problems import InvalidInput


class MalformedInquiry(InvalidInput):
    """An inquiry that does not match its channel's schema: refused, and registered like every
    refused inquiry of an authenticated caller (Art. 39 para. 3)."""

    title = "Invalid inquiry"
    slug = "invalid-inquiry"
    article = "Art. 39"
