"""The log's state as the console shows it, on both backends: a witness's real cosignature on
the latest checkpoint, then the witness behind once the log grew."""

from __future__ import annotations

from fastapi.testclient import TestClient

from audit.note import Cosigner, cosign
from gateway.console.log_state import WitnessState, log_state_of
from gateway.settings import Settings
from tests.gateway.audit.test_cosignatures import (
    NOW,
    gateway,
    grow,
    http,
    submit,
    witness,
    witnessed,
)

__all__ = ["gateway", "http", "witness", "witnessed"]


def test_the_witness_cosigned_the_latest_checkpoint_then_fell_behind(
    http: TestClient, witness: Cosigner, witnessed: Settings
) -> None:
    engine = http.app.state.engine  # type: ignore[attr-defined]
    note = grow(http.app, 5, first=0)  # type: ignore[arg-type]
    cosigned = cosign(note, witness, NOW)
    assert submit(http, cosigned).status_code == 200
    with engine.connect() as connection:
        state = log_state_of(connection, witnessed)
    assert (state.tree_size, state.checkpoint) == (5, note)
    assert note + "".join(f"{line}\n" for line in state.cosignatures) == cosigned
    assert state.witnesses == [WitnessState(witness.verifier().vkey, 5)]
    assert state.witnesses[0].name == "w1.test"
    assert state.verification is None

    grow(http.app, 3, first=5)  # type: ignore[arg-type]
    with engine.connect() as connection:
        state = log_state_of(connection, witnessed)
    assert (state.tree_size, state.cosignatures) == (8, [])
    assert state.witnesses == [WitnessState(witness.verifier().vkey, 5)]
