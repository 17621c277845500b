"""The redaction area: the pure rules of the credit archive (Art. 27, 34-41, 61-67).

* :mod:`redaction.identifiers` — archive indexes: GB 11643 ID numbers, GB 32100 credit codes,
  other identity documents (Art. 34).
* :mod:`redaction.catalog` (+ ``catalog.yaml``) — the versioned catalog of information items and
  the scope-category vocabulary consents use (Art. 35, 36, 62).
* :mod:`redaction.prohibited` — recognizing prohibited categories (Art. 62 para. 1), with
  :mod:`redaction.normalize` (what writers do to words, undone) and :mod:`redaction.lexicon`
  (the terms and benign contexts, versioned data files with their sources).
* :mod:`redaction.written_consent` — a record's written consent must be on file (Art. 62
  para. 2).
* :mod:`redaction.ingest` — accepting or refusing a providing unit's record (Art. 27, 37, 62).
* :mod:`redaction.records` — stored records, their status and periods; purge selection (Art. 41).
* :mod:`redaction.changes` — a change's stated reason; basis-document notices (Art. 63, 65).
* :mod:`redaction.policies` — the five channels and what each may serve (Art. 39-41, 62-66).
* :mod:`redaction.engine` — rendering a channel's view with its redactions (Art. 39-41, 62-66).
* :mod:`redaction.masking`, :mod:`redaction.pseudonym` — desensitization (Art. 40 para. 2).
* :mod:`redaction.demo` — a realistic demo report for seeding and benchmarks.

Nothing here imports a web framework, an ORM or the gateway; storage is the
:class:`~redaction.engine.CreditArchive` protocol.
"""
