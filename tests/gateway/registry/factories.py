"""Builders for the registry tests: the demo province, a registrar on its database, the log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from audit.leaf import AuditEvent, decode
from audit.merkle import leaf_hash
from audit.sequencer import Appended
from gateway.audit_log.repository import log_size, read_leaves
from gateway.audit_log.service import AuditLog, running_audit_log
from gateway.keys import load_keys
from gateway.registry.service import BasisDraft, Registrar
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from tests.gateway.audit.test_processes import verify_database
from tests.gateway.factories import demo_credentials

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
TODAY = date(2026, 12, 2)


def draft(code: str = "tax-evasion-inspection", **changes: Any) -> BasisDraft:
    fields: dict[str, Any] = {
        "code": code,
        "title": "Inspection of a suspected market fraud",
        "statute": "Demo Province Market Supervision Regulations, Art. 18",
        "scope": "An open fraud case against a market entity",
        "categories": frozenset({"basic"}),
        "valid_from": date(2026, 1, 1),
        "valid_until": date(2027, 12, 31),
    }
    return BasisDraft(**{**fields, **changes})


def purpose_definition(code: str = "guarantee_review", **changes: Any) -> dict[str, object]:
    return {
        "code": code,
        "description": {"zh": "担保审查", "en": "Review of a guarantor"},
        "categories": ["basic", "untrustworthy"],
        "max_validity_days": 30,
        "max_uses": 1,
        "frequency": "one_time",
        "subject_kinds": ["natural_person"],
        **changes,
    }


@dataclass
class Province:
    """The demo province's database and log, with its credentials."""

    settings: Settings
    engine: Engine
    audit_log: AuditLog
    credentials: dict[str, Any]

    @contextmanager
    def registrar(self, now: datetime = NOW) -> Iterator[Registrar]:
        """One unit of work on the registries."""
        with unit_of_work(self.engine) as session:
            yield Registrar(session, self.audit_log, load_keys(self.settings), now)

    def client_id(self, persona: str) -> str:
        return str(self.credentials[persona]["client_id"])

    def size(self) -> int:
        with self.engine.connect() as connection:
            return log_size(connection)

    def event(self, appended: Appended) -> AuditEvent:
        """The event of a leaf, checked to hash to what the append returned."""
        with self.engine.connect() as connection:
            (leaf,) = read_leaves(connection, appended.leaf_index, appended.leaf_index + 1)
        assert leaf_hash(leaf) == appended.leaf_hash
        return decode(leaf)

    def verify(self, tmp_path: Path) -> int:
        """Sign a checkpoint and verify the whole log against it; its size."""
        self.audit_log.publish_now()
        return verify_database(self.settings, self.engine, [], tmp_path).checkpoint.size


@contextmanager
def province_of(settings: Settings) -> Iterator[Province]:
    credentials = demo_credentials(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        with running_audit_log(engine, settings, load_keys(settings)) as audit_log:
            yield Province(settings, engine, audit_log, credentials)
    finally:
        engine.dispose()
