"""Telling credit subjects what happened about them, by the channels and events they chose.

The audit log already registers everything a subject may want to know - a consent request,
an inquiry, an objection answered, a deletion acknowledged, a report issued - with the
subject's key beside the leaf (:mod:`gateway.audit_log`). So the notifier reads the log: each
round (:func:`tell_from_log`, a scheduler job) takes the leaves after its cursor that concern
subjects with preferences, and queues one message per chosen event and channel in the outbox
of :mod:`gateway.webhooks` (retries that survive restarts, one sender per row across
processes). Nothing is added to the inquiry's own path, and a message is queued only for
what is durably in the log. Consents about to expire (:func:`remind_expiring`) and the daily
inquiry digest (:func:`send_digests`) are rounds of their own. Marks make every round safe to
repeat: each thing is told once.

A message says what happened, when, and links to the portal, in Chinese and English: never an
identifier, a name or credit data (:mod:`gateway.notifications.messages`). Each message sent
is an audit leaf of its own (kind ``notification``: the event and the channel, never the
address; :mod:`gateway.webhooks.worker`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from sqlmodel import Session

from audit.leaf import AuditEvent, Channel, EventKind, Outcome, decode
from gateway.audit_log.repository import log_size
from gateway.keys import GatewayKeys
from gateway.notifications import repository
from gateway.notifications.messages import INQUIRY_DIGEST, Event, compose, email, sms_text
from gateway.notifications.models import NotificationPreferences
from gateway.notifications.transports import MAILTO, available_channels
from gateway.notifications.transports import Channel as Medium
from gateway.parties.accounts import account_subject_key
from gateway.settings import Settings
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.repository import add_delivery
from redaction.periods import CHINA_STANDARD_TIME

THIRD_PARTY_CHANNELS = frozenset(
    {
        Channel.AUTHORIZED_INQUIRY,
        Channel.GOVERNMENT_AFFAIRS_SHARING,
        Channel.INQUIRY_BASED_ON_AUTHORITY,
    }
)
ANSWERS = frozenset({"corrected", "deleted", "upheld"})
REPORT_PURPOSE = "report:"
TARGET_PREFIX = "subject:"


@dataclass(frozen=True)
class NoticeDesk:
    """What one round of notifications works with, and the instant it acts at."""

    session: Session
    keys: GatewayKeys
    settings: Settings
    now: datetime

    @property
    def link(self) -> str:
        return f"{self.settings.base_url}/portal"


@dataclass(frozen=True)
class Choice:
    """What a citizen chose: where, which events, inquiries at once or daily."""

    email: str | None
    email_enabled: bool
    phone: str | None
    sms_enabled: bool
    events: frozenset[Event]
    inquiry_digest: bool


def preferences(session: Session, citizen_id: str) -> NotificationPreferences | None:
    return repository.preferences_of(session, citizen_id)


def choose(
    session: Session, keys: GatewayKeys, citizen_id: str, choice: Choice, now: datetime
) -> NotificationPreferences:
    """Store the citizen's choice (replacing the previous one)."""
    row = repository.preferences_of(session, citizen_id) or NotificationPreferences(
        citizen_id=citizen_id,
        subject_key=account_subject_key(session, keys, citizen_id, now),
        events=[],
        updated_at=now,
    )
    row.email, row.email_enabled = choice.email, choice.email_enabled
    row.phone, row.sms_enabled = choice.phone, choice.sms_enabled
    row.events = sorted(event.value for event in choice.events)
    row.inquiry_digest, row.updated_at = choice.inquiry_digest, now
    session.add(row)
    session.flush()
    return row


# -- rounds --------------------------------------------------------------------------------


def tell_from_log(desk: NoticeDesk) -> int:
    """Queue the messages for the log's new leaves about subscribers; the number queued."""
    connection = desk.session.connection()
    start = repository.next_leaf(desk.session)
    end = log_size(connection)
    if start is None:  # the first round starts at the present: nothing from before is told
        repository.move_cursor(desk.session, end)
        return 0
    end = min(end, start + repository.PAGE)
    found = repository.leaves_of_subscribers(connection, start, end)
    subscribed = repository.subscribers(desk.session, {key for _, _, key in found})
    queued = 0
    for index, leaf, subject_key in found:
        queued += _told(desk, decode(leaf), subscribed[subject_key], index)
    repository.move_cursor(desk.session, end)
    return queued


def remind_expiring(desk: NoticeDesk) -> int:
    """Tell subscribers of their consents that expire within the configured days, once."""
    until = desk.now + timedelta(days=desk.settings.notification_expiry_days)
    grants = repository.expiring_grants(desk.session, until, desk.now)
    subscribed = repository.subscribers(desk.session, {grant.subject_key for grant in grants})
    queued = 0
    for grant in grants:
        chosen = subscribed.get(grant.subject_key)
        if chosen is None or Event.CONSENT_EXPIRING not in chosen.events:
            continue
        assert grant.expires_at is not None  # an active grant has its end
        if repository.mark(
            desk.session, grant.subject_key, Event.CONSENT_EXPIRING, grant.grant_id, desk.now
        ):
            queued += queue(
                desk, chosen, Event.CONSENT_EXPIRING, deadline=_moment(grant.expires_at)
            )
    return queued


def send_digests(desk: NoticeDesk) -> int:
    """After the digest hour, each day's count of inquiries before today, one message each."""
    local = desk.now.astimezone(CHINA_STANDARD_TIME)
    if local.hour < desk.settings.notification_digest_hour:
        return 0
    queued = 0
    digests = repository.digests_before(desk.session, local.date())
    subscribed = repository.subscribers(desk.session, {digest.subject_key for digest in digests})
    for digest in digests:
        chosen = subscribed.get(digest.subject_key)
        if chosen is not None and Event.INQUIRY in chosen.events:
            day, count = digest.day.isoformat(), str(digest.inquiries)
            queued += queue(desk, chosen, INQUIRY_DIGEST, day=day, count=count)
        repository.drop_digest(desk.session, digest)
    return queued


def _told(desk: NoticeDesk, event: AuditEvent, chosen: NotificationPreferences, index: int) -> int:
    found = _event_of(desk, event)
    if found is None or found[0] not in chosen.events:
        return 0
    told, facts = found
    if not repository.mark(desk.session, chosen.subject_key, told, str(index), desk.now):
        return 0
    if told is Event.INQUIRY and chosen.inquiry_digest:
        at = datetime.fromtimestamp(event.time_ms / 1000, CHINA_STANDARD_TIME)
        repository.count_for_digest(desk.session, chosen.subject_key, at.date())
        return 0
    return queue(desk, chosen, told, **facts)


def _event_of(desk: NoticeDesk, event: AuditEvent) -> tuple[Event, dict[str, str]] | None:
    """What a leaf tells its subject, with the facts its message states."""
    at = {"time": _moment(datetime.fromtimestamp(event.time_ms / 1000, CHINA_STANDARD_TIME))}
    if event.kind is EventKind.CONSENT_CHANGE and event.reason_code == "requested":
        deadline = repository.grant_deadline(desk.session, event.grant_id)
        return Event.CONSENT_REQUESTED, {"deadline": _moment(deadline) if deadline else "—"}
    if event.kind is EventKind.INQUIRY and event.outcome is Outcome.ALLOWED:
        if event.channel in THIRD_PARTY_CHANNELS:
            return Event.INQUIRY, at
        if event.purpose.startswith(REPORT_PURPOSE):
            return Event.REPORT_ISSUED, at
    if event.kind is EventKind.OBJECTION and event.reason_code in ANSWERS:
        return Event.OBJECTION_ANSWERED, {}
    if event.kind is EventKind.NOTICE and event.reason_code == "acknowledged":
        return Event.DELETION_ACKNOWLEDGED, {}
    return None


# -- the outbox ----------------------------------------------------------------------------


def queue(desk: NoticeDesk, chosen: NotificationPreferences, event: str, **facts: str) -> int:
    """One outbox row per chosen channel that this gateway can send on; how many."""
    message = compose(event, desk.link, **facts)
    available = available_channels(desk.settings)
    queued = 0
    if chosen.email_enabled and chosen.email and Medium.EMAIL in available:
        sender = desk.settings.smtp_from or ""
        body = email(message, sender, chosen.email, desk.now).as_string()
        _add(desk, chosen, event, Medium.EMAIL, MAILTO + chosen.email, body)
        queued += 1
    if chosen.sms_enabled and chosen.phone and Medium.SMS in available:
        url = desk.settings.sms_webhook_url or ""
        body = json.dumps({"to": chosen.phone, "text": sms_text(message)}, ensure_ascii=False)
        _add(desk, chosen, event, Medium.SMS, url, body)
        queued += 1
    return queued


def _add(
    desk: NoticeDesk,
    chosen: NotificationPreferences,
    event: str,
    medium: Medium,
    address: str,
    body: str,
) -> None:
    add_delivery(
        desk.session,
        WebhookDelivery(
            id=uuid4().hex,
            target=(TARGET_PREFIX + chosen.citizen_id)[:64],
            url=address,
            event=f"notice.{event}",
            body=body,
            created_at=desk.now,
            next_attempt_at=desk.now,
            channel=medium.value,
            subject_key=chosen.subject_key,
        ),
    )


def _moment(at: datetime) -> str:
    return at.astimezone(CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
