"""Errors of the subject rights (Art. 63-67, 70(8)); each names the article it applies.

``detail`` names objection, notice and record ids, never an identifier or a stated reason.
"""

from __future__ import annotations

from problems import Conflict, InvalidInput, NotFound, ServiceUnavailable


class ObjectionNotFound(NotFound):
    """No such objection for this caller; another holder's or subject's answers the same."""

    title = "Objection not found"
    slug = "objection-not-found"
    article = "Art. 64"


class ObjectionInvalid(InvalidInput):
    """An objection or an answer that does not say what Art. 64 needs."""

    title = "Invalid objection"
    slug = "objection-invalid"
    article = "Art. 64"


class AlreadyUnderObjection(Conflict):
    """The item already has an open objection; its answer comes first."""

    title = "Already under objection"
    slug = "already-under-objection"
    article = "Art. 64"


class ObjectionAnswered(Conflict):
    """The objection has been answered; an answer is given once."""

    title = "Objection already answered"
    slug = "objection-answered"
    article = "Art. 64"


class RestorationNotApplicable(InvalidInput):
    """Credit restoration concerns information on untrustworthiness only."""

    title = "Restoration not applicable"
    slug = "restoration-not-applicable"
    article = "Art. 66 para. 2"


class NoticeNotFound(NotFound):
    """No such deletion notice to this establishment."""

    title = "Deletion notice not found"
    slug = "deletion-notice-not-found"
    article = "Art. 67"


class CalendarInvalid(ServiceUnavailable):
    """An operator's holiday calendar file cannot be read: the gateway does not start (a
    configuration error, no refusal of a request)."""

    title = "Holiday calendar invalid"
    slug = "holiday-calendar-invalid"


class WorkingDaysUnknown(ServiceUnavailable):
    """A deadline falls in a year no holiday schedule covers: it is not counted as weekends
    only; the article is that of the deadline (Art. 64, 65 or 67)."""

    title = "Working days not known"
    slug = "working-days-unknown"
    article = "Art. 64"


class ApplicationNotFound(NotFound):
    """No such restoration application for this designating unit."""

    title = "Restoration application not found"
    slug = "restoration-application-not-found"
    article = "Art. 66 para. 2"


class ApplicationInvalid(InvalidInput):
    title = "Invalid restoration decision"
    slug = "restoration-decision-invalid"
    article = "Art. 66 para. 2"


class ApplicationPending(Conflict):
    """An application on the record awaits its decision; one at a time."""

    title = "Restoration application pending"
    slug = "restoration-application-pending"
    article = "Art. 66 para. 1"


class ApplicationDecided(Conflict):
    title = "Restoration application decided"
    slug = "restoration-application-decided"
    article = "Art. 66 para. 2"
