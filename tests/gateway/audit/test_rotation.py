"""Rotating the audit log's key: old and new keys co-sign during the overlap, history holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from audit.checkpoint import open_checkpoint
from audit.errors import UntrustedNote
from audit.merkle import verify_consistency
from audit.note import parse_verifier_key
from gateway.settings import Settings
from tests.gateway.audit.factories import append_entries, audit_log_of


def _pem(path: Path) -> Path:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


def test_checkpoints_stay_verifiable_and_consistent_across_a_rotation(
    migrated: Settings, tmp_path: Path
) -> None:
    old_file, new_file = _pem(tmp_path / "old.pem"), _pem(tmp_path / "new.pem")
    before = migrated.model_copy(update={"log_key_file": old_file})
    overlap = migrated.model_copy(
        update={"log_key_file": new_file, "log_retiring_key_files": [old_file]}
    )
    after = migrated.model_copy(update={"log_key_file": new_file})

    with audit_log_of(before) as log:
        old_vkey = log.verifier_key()
        append_entries(log, 3)
        first = log.publish_now()
    with audit_log_of(overlap) as log:
        new_vkey = log.verifier_key()
        append_entries(log, 2, first=3)
        during = log.publish_now()
        proof = log.prove_consistency(3, 5)
    with audit_log_of(after) as log:
        append_entries(log, 2, first=5)
        last = log.publish_now()

    origin = migrated.log_origin
    old, new = parse_verifier_key(old_vkey), parse_verifier_key(new_vkey)
    head1 = open_checkpoint(first, [old], origin)
    head2_old = open_checkpoint(during, [old], origin)  # a verifier with the old key only
    head2_new = open_checkpoint(during, [new], origin)  # a verifier with the new key only
    assert head2_old == head2_new and head2_old.size == 5
    verify_consistency(3, 5, proof, head1.root, head2_old.root)
    assert open_checkpoint(last, [new], origin).size == 7
    with pytest.raises(UntrustedNote):
        open_checkpoint(last, [old], origin)  # the overlap is over: the old key no longer signs
