"""What the consent core needs from storage: the ``typing.Protocol`` s the gateway implements.

* :class:`JtiStore` - client assertion ``jti`` values seen (RFC 7523 section 3, item 7).
* :class:`RevokedTokens` - revoked access token ids (RFC 7009 section 2.1), and the clients
  whose every token is revoked (a party the operator disabled).
* :class:`ClientDirectory` - registered clients and their public keys.
* :class:`GrantStore` - consent grants, with the atomic use counting of Art. 61(2).

Implementations must be safe under several gateway processes on one database: ``remember``,
``consume_use`` and ``consume_uses`` are each one conditional statement, never
read-then-write.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import datetime
from typing import Protocol

from consent.clients import RegisteredClient
from consent.grants import Grant


class JtiStore(Protocol):
    def remember(self, jti: str, client_id: str, expires_at: datetime) -> None:
        """Record ``(client_id, jti)`` until ``expires_at``.

        Raise :class:`consent.errors.ReplayedAssertionError` when the pair is already
        recorded (e.g. ``INSERT`` on a unique key; the integrity error becomes the raise).
        Entries may be deleted once ``expires_at`` has passed: an expired assertion is
        refused before it reaches the store.
        """
        ...


class RevokedTokens(Protocol):
    def revoke(self, jti: str, expires_at: datetime) -> None:
        """Record that the access token ``jti`` is revoked; idempotent. Entries may be
        deleted after ``expires_at``: the token is refused as expired by then."""
        ...

    def is_revoked(self, jti: str, client_id: str) -> bool:
        """Whether the token ``jti`` of ``client_id`` is revoked: on its own, or with every
        token of its client (the client was disabled). Read on every request, never cached."""
        ...


class ClientDirectory(Protocol):
    def client(self, client_id: str) -> RegisteredClient | None:
        """The registered client, or ``None`` (also for a disabled client)."""
        ...


class GrantStore(Protocol):
    def get(self, grant_id: str) -> Grant | None: ...

    def consume_use(self, grant_id: str, now: datetime) -> int | None:
        """Count one inquiry under the grant, atomically, if it may still be used.

        One conditional statement, e.g.::

            UPDATE grants SET uses = uses + 1
             WHERE grant_id = :id AND state = 'active' AND uses < max_uses
               AND not_before <= :now AND expires_at > :now
            RETURNING max_uses - uses

        Return the uses remaining after this one, or ``None`` when no row matched (the
        grant was revoked, paused, expired or used up meanwhile). A revocation committed
        before this statement therefore denies the very next inquiry.
        """
        ...

    def consume_uses(self, uses: Mapping[str, int], first: datetime, last: datetime) -> Set[str]:
        """Count ``uses[grant_id]`` inquiries under each grant at once, atomically, for every
        grant that covers all of them: usable at the instants ``first`` and ``last``, with as
        many uses left. ONE conditional statement for all the grants, e.g.::

            UPDATE grants SET uses = uses + asked.n FROM :uses AS asked
             WHERE grant_id = asked.grant_id AND state = 'active'
               AND uses + asked.n <= max_uses
               AND not_before <= :first AND expires_at > :last
            RETURNING grant_id

        Return the grants counted; the others are left as they were.
        """
        ...
