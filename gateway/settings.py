"""Runtime settings: one pydantic-settings class, every variable prefixed ``GATEWAY_``."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_REPORT_VALIDITY_DAYS = 365
"""The longest validity a credit report can be issued with, whatever the setting says."""


class Exporter(StrEnum):
    none = "none"
    console = "console"
    otlp = "otlp"


Writer = Literal["process", "thread"]
"""Who writes the audit log's batches the event loop awaits: off the sequencer's thread
(``process``: a process of their own on SQLite, :mod:`gateway.audit_log.writer`; the loop
itself on PostgreSQL, :class:`gateway.audit_log.repository.LoopLogStore`), or that thread."""


class Settings(BaseSettings):
    """Everything the gateway reads from its environment.

    Secrets never have defaults in code: signing keys are generated on first start under
    ``keys_dir`` (mode 0600) or read from the files named here.
    """

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    var_dir: Path = Field(
        Path("var"), description="Working directory for data, keys and demo files"
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default SQLite at <var_dir>/gateway.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    audit_writer: Writer = Field(
        "process",
        description="The batches the event loop awaits (the inquiries') written by a process of "
        "their own on SQLite, on the loop itself on PostgreSQL, and the others in a thread "
        "(process); or all of them in a thread (thread)",
    )
    prepare_routes: bool = Field(
        True,
        description="Build every route's state at start-up (about 0.3 s) rather than on the "
        "route's first request; off only for apps that serve a few requests each (the tests)",
    )
    redis_url: str | None = Field(
        None, description="Redis URL for shared rate limits; in-memory limits when unset"
    )
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL; the OAuth issuer")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(1, ge=1, description="Server worker processes")
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Longest request body accepted (413 beyond)"
    )
    keys_dir: Path | None = Field(None, description="Where generated keys live; <var_dir>/keys")
    signing_key_file: Path | None = Field(
        None, description="PEM Ed25519 key for tokens and grants; generated when unset"
    )
    log_key_file: Path | None = Field(
        None, description="PEM Ed25519 key that signs audit checkpoints; generated when unset"
    )
    pseudonym_key_file: Path | None = Field(
        None, description="32-byte secret for subjects' keyed pseudonyms; generated when unset"
    )
    dpop_nonce_key_file: Path | None = Field(
        None, description="32-byte secret the DPoP server nonces derive from; generated when unset"
    )
    pseudonym_key_version: int = Field(
        1, ge=1, description="Pseudonym key version; raise it to rotate every pseudonym"
    )
    log_retiring_key_files: list[Path] = Field(
        default_factory=list,
        description="PEM keys of the audit log being retired: they co-sign checkpoints "
        "during a rotation's overlap (JSON list)",
    )
    log_origin: str = Field(
        "gateway.demo-province.example/credit-audit", description="Checkpoint origin line"
    )
    checkpoint_interval: float = Field(
        5.0, gt=0, description="Seconds between signed audit checkpoints"
    )
    audit_witness_keys: list[str] = Field(
        default_factory=list,
        description="C2SP cosignature verifier keys <name>+<hex>+<base64> of the witnesses "
        "whose cosignatures the gateway accepts and serves with its checkpoint (JSON list)",
    )
    audit_witness_urls: dict[str, str] = Field(
        default_factory=dict,
        description="C2SP tlog-witness witnesses the gateway submits each new checkpoint to: "
        "JSON object from the witness's cosignature verifier key to its submission prefix URL",
    )
    otel_exporter: Exporter = Field(Exporter.none, description="none / console / otlp")
    otel_endpoint: str | None = Field(None, description="OTLP/HTTP endpoint when exporter=otlp")
    rate_limit_default: str = Field("600/minute", description="Per client id, or per IP")
    rate_limit_public: str = Field(
        "10/second;500/day", description="Per IP on the anonymous public lookup"
    )
    rate_limit_sign_in: str = Field(
        "10/minute;100/day",
        description="Per IP and per account on the citizen sign-in, API and portal together "
        "(password guessing); the same again on the regulator console's sign-in",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies whose X-Forwarded-For names "
        "the client (JSON list); none by default: the peer's own address is the client's",
    )
    webhook_interval: float = Field(
        2.0, gt=0, description="Seconds between rounds of webhook deliveries"
    )
    portal_session_idle: int = Field(
        1800, ge=60, le=8 * 3600, description="Seconds a portal or console session lasts unused"
    )
    holiday_calendar: Path | None = Field(
        None,
        description="Folder of the operator's per-year YAML holiday schedules for the years the "
        "chinesecalendar package does not know yet; gateway/rights/holidays/ when unset",
    )
    report_validity_days: int = Field(
        30,
        ge=1,
        le=MAX_REPORT_VALIDITY_DAYS,
        description="Days an issued credit report is valid (Art. 39 para. 5)",
    )
    objection_deadline: int = Field(
        5, ge=1, le=60, description="Working days a holder has to answer an objection (Art. 64)"
    )
    notice_deadline: int = Field(
        5, ge=1, le=60, description="Working days to acknowledge a deletion notice (Art. 67)"
    )
    scheduler_enabled: bool = Field(
        True, description="Run the periodic jobs in this process (leases keep them single)"
    )
    smtp_host: str | None = Field(None, description="SMTP server for e-mail notices; none: off")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls, tls (implicit) or none (a local relay only)"
    )
    smtp_username: str | None = Field(None, description="SMTP user name, when it needs one")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (env or secrets)")
    smtp_from: str | None = Field(None, description="Sender address of e-mail notices")
    sms_webhook_url: str | None = Field(
        None, description="SMS provider's HTTP API for text notices; none: off"
    )
    sms_webhook_secret: SecretStr | None = Field(
        None, description="HMAC-SHA256 key that signs each SMS request body"
    )
    notification_expiry_days: int = Field(
        3, ge=1, le=30, description="Days before a consent expires that its subject is told"
    )
    notification_digest_hour: int = Field(
        8, ge=0, le=23, description="Hour (China Standard Time) the daily inquiry digest goes"
    )
    scheduler_interval: float = Field(
        300.0, gt=0, description="Seconds between rounds of the periodic jobs"
    )
    oidc_issuer: str | None = Field(
        None,
        description="The provincial identity provider (OpenID Connect issuer URL); discovery "
        "from <issuer>/.well-known/openid-configuration. Unset: local passwords only",
    )
    oidc_client_id: str | None = Field(None, description="The gateway's client id there")
    oidc_client_secret: SecretStr | None = Field(
        None, description="The gateway's client secret there (client_secret_basic)"
    )
    oidc_identity_claim: str = Field(
        "id_number",
        pattern=r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$",
        description="The ID token claim carrying the verified citizen identity number",
    )
    oversight_burst_factor: float = Field(
        3.0,
        gt=1,
        description="Console alert: a requester's inquiries on a day above this many times the "
        "median of its daily inquiries over the 30 days before",
    )
    oversight_burst_minimum: int = Field(
        20, ge=1, description="Console alert: the fewest inquiries of a day that make a burst"
    )
    oversight_refusal_rate: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Console alert: a requester's refused share of a day's inquiries above this",
    )
    oversight_refusal_minimum: int = Field(
        10, ge=1, description="Console alert: the fewest inquiries of a day a refusal rate needs"
    )
    oversight_business_start: int = Field(
        8, ge=0, le=23, description="Console alert: first hour of business (China Standard Time)"
    )
    oversight_business_end: int = Field(
        18, ge=1, le=24, description="Console alert: hour business ends (China Standard Time)"
    )

    @field_validator("oversight_business_end")
    @classmethod
    def _business_ends_after_it_starts(cls, end: int, info: ValidationInfo) -> int:
        if end <= info.data.get("oversight_business_start", 0):
            raise ValueError("business hours end after they start")
        return end

    oversight_after_hours_minimum: int = Field(
        5, ge=1, description="Console alert: the fewest inquiries of a day outside business hours"
    )
    oversight_grantless_subjects: int = Field(
        5,
        ge=1,
        description="Console alert: the fewest distinct subjects a requester inquired about in a "
        "day without a grant of its own",
    )
    demo_password: SecretStr | None = Field(
        None, description="Demo citizen password; random on first seed when unset"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        """Each an IP address or network: a host name or ``*`` would trust what it should not."""
        return [str(ipaddress.ip_network(proxy, strict=False)) for proxy in proxies]

    @cached_property
    def resolved_keys_dir(self) -> Path:
        return self.keys_dir or self.var_dir / "keys"

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'gateway.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def https(self) -> bool:
        """Whether the public URL is HTTPS: then browsers are told to use nothing else (HSTS)."""
        return self.base_url.startswith("https://")
