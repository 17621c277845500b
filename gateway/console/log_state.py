"""The log's state for the console: the latest signed checkpoint (C2SP tlog-checkpoint), the
witnesses the gateway accepts cosignatures from with the largest checkpoint each has cosigned,
the cosignature lines on the latest checkpoint, and the last run of the local verifier
(``gateway audit verify --local``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from gateway.audit_log.repository import (
    Verification,
    cosignature_lines,
    cosigned_size,
    latest_checkpoint,
    latest_checkpoint_size,
    latest_verification,
)
from gateway.settings import Settings


@dataclass(frozen=True)
class WitnessState:
    """A witness by its cosignature verifier key, and the largest tree size it cosigned."""

    key: str
    cosigned_size: int | None

    @property
    def name(self) -> str:
        return self.key.split("+", 1)[0]


@dataclass(frozen=True)
class LogState:
    checkpoint: str | None
    tree_size: int | None
    cosignatures: list[str]
    witnesses: list[WitnessState]
    verification: Verification | None


def log_state_of(connection: Connection, settings: Settings) -> LogState:
    size = latest_checkpoint_size(connection)
    keys = dict.fromkeys([*settings.audit_witness_keys, *settings.audit_witness_urls])
    return LogState(
        checkpoint=latest_checkpoint(connection),
        tree_size=size,
        cosignatures=[] if size is None else cosignature_lines(connection, size),
        witnesses=[WitnessState(key, cosigned_size(connection, key)) for key in keys],
        verification=latest_verification(connection),
    )
