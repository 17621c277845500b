"""Signed notifications to establishments' webhooks: consent lifecycle events (Art. 61(2)) and
the deletion notices of Art. 67 and 70(8) travel the same way.

* :mod:`gateway.webhooks.models` - the outbox table, one row per delivery.
* :mod:`gateway.webhooks.repository` - its queries: enqueue, claim, record an attempt.
* :mod:`gateway.webhooks.outbox` - :class:`Outbox`, what services call to notify a party.
* :mod:`gateway.webhooks.worker` - the background thread that delivers, with backoff
  (:mod:`gateway.webhooks.schedule`).

A notification is a JWS compact serialization (RFC 7515) signed with the gateway's signing
key - the key of its access tokens and consent artefacts, published at ``/oauth/jwks`` -
header ``typ`` ``webhook+jwt``, ``alg`` EdDSA, ``kid``. It is POSTed as the request body with
``Content-Type: application/jwt``. Claims: ``iss`` (the gateway), ``aud`` (the receiving
establishment's client id), ``iat``, ``jti`` (the delivery id: the same on every retry, so a
receiver drops duplicates by it), ``event`` (e.g. ``consent.approved``, or
``record.deletion_notice`` for a deletion notice, :mod:`gateway.rights.notices`) and
``data``. The body holds no personal data beyond the receiver's own pseudonym of the subject.
"""
