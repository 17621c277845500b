"""The credit archive in the gateway (Art. 27, 34-37, 41, 61(3), 62, 63, 65): the state behind
:class:`redaction.engine.CreditArchive`, and the providing units' side over HTTP.

The rules are pure code in :mod:`redaction`; this package gives them storage and the log:

* :mod:`gateway.archive.models` - the tables: subjects (the only raw identifiers), records,
  their append-only versions, the written consents records rest on.
* :mod:`gateway.archive.repository` - every query: :class:`SqlCreditArchive` (a subject's
  records with their history, two indexed queries), idempotent inserts, conditional version
  writes, the retention purge's selection.
* :mod:`gateway.archive.service` - submissions, corrections, revocations (Art. 65) and the
  retention purge (Art. 41), each change appended to the audit log; :func:`view_for`, the read
  of the disclosure channels.
* :mod:`gateway.archive.written_consents` (+ ``_repository``, ``_schemas``) - written
  consents (Art. 62 para. 2): a subject's collection consent, a unit's registered document,
  withdrawal; the check at ingestion is :func:`gateway.archive.service.check_record_consent`.
* :mod:`gateway.archive.schemas` - the bodies of ``GET /v1/catalog`` and ``/v1/records``.
* :mod:`gateway.archive.demo` - the demo province's archive; :mod:`gateway.archive.cli` -
  ``gateway archive purge``.
"""
