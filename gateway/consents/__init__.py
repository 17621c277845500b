"""Consent grants in the gateway (Art. 61(2), 62): the state behind ``consent.lifecycle`` and
``consent.inquiry``, and the consent flow over HTTP.

* :mod:`gateway.consents.models` - the grant table.
* :mod:`gateway.consents.repository` - its queries: the atomic use count, conditional
  lifecycle writes, the expiry sweep's selection.
* :mod:`gateway.consents.service` - requests, the subject's decisions, receipts, expiry;
  each change appended to the audit log and notified on the establishment's webhook.
* :mod:`gateway.consents.written_consent` - the versioned consequences texts of Art. 62.
* :mod:`gateway.consents.schemas` - the API's bodies.
"""
