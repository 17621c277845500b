"""Errors of report issuance (Art. 39 para. 5); ``detail`` never names a subject."""

from __future__ import annotations

from problems import Conflict, NotFound, ServiceUnavailable


class ReportNotFound(NotFound):
    """No such report of the caller's, or no report with this number and code: an unknown
    number and a wrong code answer alike, so the verification reveals nothing."""

    title = "Report not found"
    slug = "report-not-found"
    article = "Art. 39 para. 5"


class ReportWithdrawn(Conflict):
    """A withdrawn report is no longer served (only its verification status is)."""

    title = "Report withdrawn"
    slug = "report-withdrawn"
    article = "Art. 39 para. 5"


class RendererUnavailable(ServiceUnavailable):
    """The PDF cannot be rendered here: its fonts are not installed (``detail`` says which)."""

    title = "PDF renderer unavailable"
    slug = "pdf-renderer-unavailable"
    article = "Art. 39 para. 5"
