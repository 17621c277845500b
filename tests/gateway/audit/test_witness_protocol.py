"""C2SP tlog-witness end to end, on both backends: two ``gateway audit witness serve``
processes cosign the gateway's checkpoints through ``add-checkpoint``, recover a lost size
through 409, and both refuse a forked log (a second database under the same key)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from audit.checkpoint import Checkpoint
from audit.note import NoteSigner, split_note, verify_cosignature
from gateway.app import create_app
from gateway.audit_log.models import COSIGNATURES
from gateway.audit_log.service import AuditLog
from gateway.audit_log.witness import FileWitnessStore
from gateway.cli import app as cli
from gateway.keys import load_keys
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import make_engine
from tests.gateway.audit.factories import append_entries, entry
from tests.gateway.audit.witnesses import RunningWitness, running_witness
from tests.live import serve

runner = CliRunner()


@pytest.fixture
def witnesses(migrated: Settings, tmp_path: Path) -> Iterator[tuple[RunningWitness, ...]]:
    log_key = NoteSigner(migrated.log_origin, load_keys(migrated).log).verifier().vkey
    with (
        running_witness(tmp_path / "w1", "w1.test", log_key) as w1,
        running_witness(tmp_path / "w2", "w2.test", log_key) as w2,
    ):
        yield w1, w2


def witnessed(settings: Settings, witnesses: tuple[RunningWitness, ...], url: str) -> Settings:
    return Settings(
        var_dir=settings.var_dir,
        database_url=url,
        audit_witness_urls={w.vkey: w.url for w in witnesses},
        _env_file=None,
    )


@contextmanager
def witnessed_log(settings: Settings) -> Iterator[AuditLog]:
    """The gateway's log with its witnesses, without the checkpoint thread (the test drives)."""
    engine = make_engine(settings.resolved_database_url)
    keys = load_keys(settings)
    audit_log = AuditLog(
        engine,
        origin=settings.log_origin,
        log_key=keys.log,
        interval=3600,
        witness_urls=settings.audit_witness_urls,
    )
    try:
        yield audit_log
    finally:
        audit_log.close()
        engine.dispose()


def checkpoint_of(note: str) -> Checkpoint:
    return Checkpoint.parse(split_note(note)[0])


def witnessed_head(witness: RunningWitness, origin: str) -> int:
    head = FileWitnessStore(witness.state).latest(origin)
    assert head is not None
    return head.size


def test_both_witnesses_cosign_each_new_checkpoint(
    migrated: Settings, witnesses: tuple[RunningWitness, ...]
) -> None:
    settings = witnessed(migrated, witnesses, migrated.resolved_database_url)
    with witnessed_log(settings) as audit_log:
        for first, count in ((0, 5), (5, 4)):
            append_entries(audit_log, count, first=first)
            audit_log.publish_now()
            assert audit_log.collect_cosignatures() == [w.vkey for w in witnesses]
            served = audit_log.checkpoint()
            for witness in witnesses:
                verify_cosignature(served, witness.cosigner.verifier())
                assert witnessed_head(witness, settings.log_origin) == first + count
        assert audit_log.collect_cosignatures() == []  # nothing new to cosign


def test_a_forgotten_witness_size_is_learnt_from_409(
    migrated: Settings, witnesses: tuple[RunningWitness, ...]
) -> None:
    settings = witnessed(migrated, witnesses, migrated.resolved_database_url)
    with witnessed_log(settings) as audit_log:
        append_entries(audit_log, 5)
        audit_log.publish_now()
        assert len(audit_log.collect_cosignatures()) == 2
        engine = make_engine(settings.resolved_database_url)
        with engine.begin() as connection:
            connection.execute(delete(COSIGNATURES))
        engine.dispose()
        append_entries(audit_log, 3, first=5)
        audit_log.publish_now()
        assert audit_log.collect_cosignatures() == [w.vkey for w in witnesses]
        assert checkpoint_of(audit_log.checkpoint()).size == 8


def test_a_forked_log_is_refused_by_both_witnesses(
    migrated: Settings,
    witnesses: tuple[RunningWitness, ...],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = witnessed(migrated, witnesses, migrated.resolved_database_url)
    with witnessed_log(settings) as audit_log:
        append_entries(audit_log, 6)
        audit_log.publish_now()
        assert len(audit_log.collect_cosignatures()) == 2
        honest = checkpoint_of(audit_log.checkpoint())

    fork_url = f"sqlite:///{tmp_path / 'fork.db'}"
    migrate.upgrade(fork_url)
    fork = witnessed(migrated, witnesses, fork_url)
    caplog.set_level(logging.WARNING, logger="gateway.audit")
    with witnessed_log(fork) as forked:
        forked.append(*entry(0, requester="establishment-forged"))
        append_entries(forked, 5, first=1)
        forked.publish_now()
        assert checkpoint_of(forked.checkpoint()).size == honest.size
        assert checkpoint_of(forked.checkpoint()).root != honest.root
        assert forked.collect_cosignatures() == []  # same size, another root: 409 twice
        append_entries(forked, 3, first=6)
        forked.publish_now()
        assert forked.collect_cosignatures() == []  # a proof from the honest head fails: 422
        assert split_note(forked.checkpoint())[1] == split_note(forked.checkpoint())[1][:1]
    refusals = [r.getMessage() for r in caplog.records if "did not cosign" in r.getMessage()]
    assert sum("answered 409" in message for message in refusals) == 2
    assert sum("answered 422" in message for message in refusals) == 2
    for witness in witnesses:
        assert witnessed_head(witness, settings.log_origin) == honest.size


def test_pull_relays_a_gateway_checkpoint_to_a_witness(
    migrated: Settings, witnesses: tuple[RunningWitness, ...]
) -> None:
    w1, _ = witnesses
    settings = Settings(
        var_dir=migrated.var_dir,
        database_url=migrated.resolved_database_url,
        audit_witness_keys=[w1.vkey],
        _env_file=None,
    )
    gateway = create_app(settings)
    with serve(gateway) as url:
        audit_log: AuditLog = gateway.state.audit_log
        append_entries(audit_log, 4)
        audit_log.publish_now()
        refused = runner.invoke(cli, pull(url, witnesses[1]))
        assert refused.exit_code == 1
        assert "the gateway refused the cosignature" in refused.stderr
        for first in (4, 8):
            pulled = runner.invoke(cli, pull(url, w1))
            assert pulled.exit_code == 0, pulled.output
            assert "submitted to" in pulled.stderr
            verify_cosignature(pulled.stdout, w1.cosigner.verifier())
            verify_cosignature(audit_log.checkpoint(), w1.cosigner.verifier())
            assert witnessed_head(w1, settings.log_origin) == first
            append_entries(audit_log, 4, first=first)
            audit_log.publish_now()


def pull(url: str, witness: RunningWitness) -> list[str]:
    return ["audit", "witness", "pull", "--url", url, "--witness-url", witness.url]
