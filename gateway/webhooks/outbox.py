"""Notifying a party: sign the notification and put it in the outbox of the current unit of
work (see :mod:`gateway.webhooks` for the format)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import uuid4

from sqlmodel import Session

from consent.jws import sign, timestamp
from consent.keys import KeyRing
from gateway.parties.repository import party_by_client_id
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.repository import add_delivery

WEBHOOK_TYP = "webhook+jwt"


class Outbox:
    """Signed notifications to parties' webhooks, written with the change they report."""

    def __init__(self, session: Session, keyring: KeyRing, issuer: str) -> None:
        self._session = session
        self._keyring = keyring
        self._issuer = issuer

    def notify(self, client_id: str, event: str, data: Mapping[str, object], now: datetime) -> None:
        """Queue ``event`` for ``client_id``'s webhook; nothing when it has none or is disabled."""
        party = party_by_client_id(self._session, client_id)
        if party is None or party.disabled or not party.webhook_url:
            return
        delivery_id = uuid4().hex
        claims = {
            "iss": self._issuer,
            "aud": client_id,
            "iat": timestamp(now),
            "jti": delivery_id,
            "event": event,
            "data": dict(data),
        }
        delivery = WebhookDelivery(
            id=delivery_id,
            target=client_id,
            url=party.webhook_url,
            event=event,
            body=sign(self._keyring, WEBHOOK_TYP, claims),
            created_at=now,
            next_attempt_at=now,
        )
        add_delivery(self._session, delivery)
