"""The audit log wired into the gateway (Art. 39 para. 3, Art. 61(3), Art. 63).

The pure log lives in :mod:`audit`; this package gives it storage and a lifecycle:

* :mod:`gateway.audit_log.models` — the tables: leaves, stored hashes, checkpoints, openings.
* :mod:`gateway.audit_log.repository` — every query, and :class:`SqlLogStore`, the
  :class:`audit.sequencer.LogStore` / :class:`audit.tlog.HashReader` on SQLite or PostgreSQL.
* :mod:`gateway.audit_log.checkpointer` — signs C2SP checkpoints every few seconds and on demand.
* :mod:`gateway.audit_log.service` — :class:`AuditLog`, the one object the routes and the
  inquiry path talk to.
"""
