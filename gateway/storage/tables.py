"""Every table of the gateway, imported in one place so that the metadata is complete."""

from gateway.archive import models as archive
from gateway.audit_log import models as audit_log
from gateway.consents import models as consents
from gateway.console import models as console
from gateway.factors import models as factors
from gateway.notifications import models as notifications
from gateway.oauth import models as oauth
from gateway.parties import models as parties
from gateway.registry import models as registry
from gateway.reports import models as reports
from gateway.rights import models as rights
from gateway.webhooks import models as webhooks

__all__ = [
    "archive",
    "audit_log",
    "consents",
    "console",
    "factors",
    "notifications",
    "oauth",
    "parties",
    "registry",
    "reports",
    "rights",
    "webhooks",
]
