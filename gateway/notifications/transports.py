"""Sending a subject's notification: e-mail over SMTP, a text message through the SMS
provider's HTTP API.

SMTP: ``GATEWAY_SMTP_HOST``/``PORT``, ``GATEWAY_SMTP_SECURITY`` (``starttls``, ``tls`` or
``none``), optional ``GATEWAY_SMTP_USERNAME`` and ``GATEWAY_SMTP_PASSWORD`` (from the
environment or ``.env``, never in code), ``GATEWAY_SMTP_FROM``. SMS: a JSON POST of
``{"to", "text"}`` to ``GATEWAY_SMS_WEBHOOK_URL``, its body signed with HMAC-SHA256 under
``GATEWAY_SMS_WEBHOOK_SECRET``: header ``X-Gateway-Signature: t=<unix time>,v1=<hex of
HMAC(secret, "<t>." + body)>`` (the provider checks the time to refuse replays). A channel
that is not configured sends nothing (:func:`available_channels`).
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import ssl
import time
from enum import StrEnum

import httpx

from gateway.settings import Settings

TIMEOUT = 10.0
SENT = 250
"""The status a delivered e-mail is recorded with (SMTP's "requested action completed")."""
MAILTO = "mailto:"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


def sms_signature(secret: bytes, body: bytes, at: int) -> str:
    digest = hmac.new(secret, f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def available_channels(settings: Settings) -> frozenset[Channel]:
    """The channels this gateway is configured to send on."""
    channels = set()
    if settings.smtp_host and settings.smtp_from:
        channels.add(Channel.EMAIL)
    if settings.sms_webhook_url and settings.sms_webhook_secret:
        channels.add(Channel.SMS)
    return frozenset(channels)


class Transports:
    """The configured ways to reach subjects."""

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        self._settings = settings
        self._http = http

    def send(self, channel: str, address: str, body: str) -> int | None:
        """Send; the status (SMTP 250, the provider's HTTP status) or None when it failed."""
        if channel not in available_channels(self._settings):
            return None
        if channel == Channel.EMAIL:
            return self._mail(address.removeprefix(MAILTO), body)
        return self._sms(address, body)

    def _mail(self, recipient: str, message: str) -> int | None:
        settings = self._settings
        assert settings.smtp_host is not None and settings.smtp_from is not None  # available
        context = ssl.create_default_context()
        try:
            if settings.smtp_security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.smtp_host, settings.smtp_port, timeout=TIMEOUT, context=context
                )
            else:
                smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT)
            with smtp:
                if settings.smtp_security == "starttls":
                    smtp.starttls(context=context)
                if settings.smtp_username and settings.smtp_password:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                smtp.sendmail(settings.smtp_from, [recipient], message)  # 7-bit: base64 body
        except (OSError, smtplib.SMTPException):
            return None
        return SENT

    def _sms(self, url: str, body: str) -> int | None:
        secret = self._settings.sms_webhook_secret
        assert secret is not None  # available
        content = body.encode("utf-8")
        signature = sms_signature(secret.get_secret_value().encode(), content, int(time.time()))
        headers = {"Content-Type": "application/json", "X-Gateway-Signature": signature}
        try:
            response = self._http.post(url, content=content, headers=headers)
        except httpx.HTTPError:
            return None
        return response.status_code
