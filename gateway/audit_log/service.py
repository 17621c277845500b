"""The audit log service: query registration before the answer (Art. 39 para. 3, Art. 61(3)).

:class:`AuditLog` owns the single :class:`audit.sequencer.Sequencer` of this process - and, on
SQLite with a writer process, the :class:`audit.sequencer.LoopSequencer` of the event loop it
serves on (:mod:`gateway.audit_log.writer`) - and the checkpoint publisher.
:meth:`AuditLog.append` returns only once the entry is durable (group commit); any failure is
:class:`audit.errors.AuditUnavailable` (503), and the caller must not answer (fail closed).
Proofs (RFC 9162 sections 2.1.3, 2.1.4) and leaves are served only up to the latest signed
checkpoint: a proof is useful only against a tree head the log signed.

Every entry about a credit subject is sealed the same way (:func:`seal`): fresh salts, the
commitments :func:`audit.leaf.commit` makes of the subject's internal key (and of the response),
and the openings that keep the salts and the key, so the subject's access log finds the entry
(Art. 63). An entry sealed without openings commits to its subject under a salt nobody keeps:
it counts in the log and can never be linked to anyone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import (
    AuditUnavailable,
    InvalidLeaf,
    InvalidProofRequest,
    MalformedNote,
    UntrustedNote,
)
from audit.leaf import SALT_SIZE, AuditEvent, CommitmentDomain, commit, encode, new_salt
from audit.merkle import leaf_hash
from audit.note import (
    KeyType,
    NoteSigner,
    NoteVerifier,
    parse_verifier_key,
    split_note,
    verify_cosignature,
)
from audit.sequencer import MAX_DELAY, Appended, LoopSequencer, Receipt, Sequencer
from audit.tiles import Tile, TileCache, entry_bundle, read_tile, require_available
from audit.tlog import prove_record, prove_tree
from gateway.audit_log.checkpointer import CheckpointPublisher, checkpoint_size
from gateway.audit_log.errors import CheckpointNotPublished, InvalidLeafRange
from gateway.audit_log.repository import (
    Companion,
    ConnectionHashReader,
    Cosignature,
    LoopLogStore,
    Openings,
    Settlement,
    SqlLogStore,
    checkpoint_note,
    cosignature_lines,
    cosigned_size,
    insert_cosignatures,
    latest_checkpoint,
    latest_checkpoint_size,
    read_leaves,
)
from gateway.audit_log.witness import request_cosignature
from gateway.audit_log.writer import ProcessLogStore
from gateway.keys import GatewayKeys
from gateway.settings import Settings, Writer
from gateway.storage.reads import LoopWrites
from gateway.telemetry import AUDIT_APPEND_DURATION, SPAN_AUDIT, tracer
from problems import GatewayError

log = logging.getLogger("gateway.audit")
APPEND_TIMEOUT = 30.0
NOT_IN_TIME = "the audit entry was not made durable in time"
WITNESS_TIMEOUT = 10.0
TILE_CACHE_BYTES = 64 << 20
MAX_LEAVES_PAGE = 1000


class AuditLog:
    """Appends, checkpoints, proofs and leaves of the gateway's log; thread-safe."""

    def __init__(
        self,
        engine: Engine,
        *,
        origin: str,
        log_key: Ed25519PrivateKey,
        interval: float,
        retiring_keys: Sequence[Ed25519PrivateKey] = (),
        witness_keys: Sequence[str] = (),
        witness_urls: Mapping[str, str] | None = None,
        append_timeout: float = APPEND_TIMEOUT,
        writer: Writer = "thread",
        preload: Sequence[str] = (),
    ) -> None:
        self._engine = engine
        self._timeout = append_timeout
        self._witness_urls = {
            _witness_verifier(vkey).vkey: url for vkey, url in (witness_urls or {}).items()
        }
        accepted = dict.fromkeys([*witness_keys, *self._witness_urls])
        self._witnesses = [_witness_verifier(vkey) for vkey in accepted]
        self._http = httpx.Client(timeout=WITNESS_TIMEOUT)
        self._tiles = TileCache(TILE_CACHE_BYTES)
        self._store = SqlLogStore(engine)
        self._signer = NoteSigner(origin, log_key)
        self._signers = [self._signer, *(NoteSigner(origin, key) for key in retiring_keys)]
        self._process: ProcessLogStore | None = None
        self._on_loop_store: LoopLogStore | None = None
        if writer == "process" and engine.dialect.name == "sqlite":
            url = engine.url.render_as_string(hide_password=False)
            self._process = ProcessLogStore(self._store, url, preload)
        elif writer == "process":
            self._on_loop_store = LoopLogStore(self._store, LoopWrites(engine))
        self._sequencer = Sequencer(self._store, max_delay=batch_window(engine))
        self._on_loop: tuple[asyncio.AbstractEventLoop, LoopSequencer] | None = None
        self._publisher = CheckpointPublisher(
            engine, self._signers, interval, after=self.collect_cosignatures
        )

    def start(self) -> None:
        """Start publishing checkpoints in the background (every ``interval`` seconds), and,
        started on an event loop with the ``process`` writer, the loop's own sequencer
        (:class:`audit.sequencer.LoopSequencer`): the appends awaited on that loop are written
        by the writer process on SQLite, on the loop itself on PostgreSQL
        (:class:`~gateway.audit_log.repository.LoopLogStore`). The others - and all of them
        when there is no loop running, or with the ``thread`` writer - are written by the
        sequencer's thread."""
        loop = _running_loop()
        if loop is not None and self._process is not None:
            self._process.start()
            self._on_loop = loop, LoopSequencer(self._process)
        elif loop is not None and self._on_loop_store is not None:
            self._on_loop = loop, LoopSequencer(self._on_loop_store)
        self._publisher.start()

    async def close_on_loop(self) -> None:
        """Write what was submitted on the event loop (the application serving on it stops);
        later appends awaited there fail closed. Before :meth:`close`."""
        if self._on_loop is not None:
            await self._on_loop[1].close()
        if self._process is not None:
            await self._process.disconnect()
        if self._on_loop_store is not None:
            await self._on_loop_store.close()

    def close(self) -> None:
        """Write what was submitted, sign it, stop the threads; later appends fail closed."""
        self._sequencer.close()
        if self._on_loop is not None:
            self._on_loop[1].abandon()  # anything not written by close_on_loop never will be
        if self._process is not None:
            self._process.close()
        self._publisher.stop()
        self._http.close()
        self._store.close()

    def append(
        self, event: AuditEvent, openings: Openings | None, settlement: Settlement | None = None
    ) -> Appended:
        """Register ``event``; returns once it is durable, raises ``AuditUnavailable`` if not.

        ``openings`` None: the event's commitments are never to be opened (see :func:`seal`).
        ``settlement``: written in the transaction of the entry, and only with it
        (:data:`gateway.audit_log.repository.Settlement`); when it raises, its entry alone
        fails (the leaf is written, the caller must not answer).

        The answer and the log agree: an entry that did not start to be written within the
        append timeout is withdrawn (never written) and ``AuditUnavailable`` raised; one whose
        batch is being written by then is waited for, and its outcome is the answer.
        """
        with self._appending(event, openings, settlement, self._sequencer.submit) as receipt:
            _wait(receipt, self._timeout)
        return receipt.result()

    async def append_async(
        self, event: AuditEvent, openings: Openings | None, settlement: Settlement | None = None
    ) -> Appended:
        """:meth:`append` awaited on the event loop: no thread waits for the entry, the
        sequencer wakes the loop once it is settled. Same rules; a caller whose wait is
        cancelled withdraws its entry if its batch has not started (else it is written)."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop)
        if self._on_loop is not None and self._on_loop[0] is loop:
            submit = partial(self._on_loop[1].submit, notify=waiter.wake)
        else:
            submit = partial(self._sequencer.submit, notify=waiter)
        with self._appending(event, openings, settlement, submit) as receipt:
            await waiter.wait(self._timeout)
            if not receipt.done():
                if receipt.cancel():
                    raise AuditUnavailable(NOT_IN_TIME)
                await waiter.wait(None)  # its batch is being written: its outcome is the answer
            receipt.result()  # raises what failed it, in the block
        return receipt.result()

    def publish_now(self) -> str:
        """Sign a checkpoint of everything appended so far (by any process); return it."""
        return self._publisher.publish_now()

    def checkpoint(self) -> str:
        """The latest signed checkpoint (a C2SP signed note), with the witnesses' cosignatures."""
        with self._engine.connect() as connection:
            note = latest_checkpoint(connection)
            if note is None:
                raise CheckpointNotPublished("the log has not signed a checkpoint yet")
            return note + "".join(
                f"{line}\n" for line in cosignature_lines(connection, checkpoint_size(note))
            )

    def add_cosignatures(self, note: str) -> list[str]:
        """Store the configured witnesses' cosignatures on a checkpoint this log stored.

        ``note`` is the cosigned note as the witness produced it: its text must be exactly the
        body of a stored checkpoint, and at least one line must verify under a configured
        witness key (a line by a configured key that does not verify refuses it all). Returns
        the verifier keys of the witnesses whose cosignatures were accepted.
        """
        text, _ = split_note(note)
        size = checkpoint_size(note)
        with self._engine.begin() as connection:
            stored = checkpoint_note(connection, size)
            if stored is None or split_note(stored)[0] != text:
                raise UntrustedNote(f"the log signed no such checkpoint of size {size}")
            cosignatures = _cosignatures(note, size, self._witnesses)
            insert_cosignatures(connection, cosignatures)
        return [cosignature.witness_key for cosignature in cosignatures]

    def collect_cosignatures(self) -> list[str]:
        """Submit the latest checkpoint to each witness of ``GATEWAY_AUDIT_WITNESS_URLS`` that
        has not cosigned it yet (C2SP tlog-witness ``add-checkpoint``), with a consistency
        proof from the size it cosigned last; store what they answer. Returns the keys of the
        witnesses that cosigned now. A witness that refuses or is down is logged, and asked
        again after the next checkpoint: the log never waits for a witness.
        """
        if not self._witness_urls:
            return []
        with self._engine.connect() as connection:
            note = latest_checkpoint(connection)
            if note is None:
                return []
            cosigned = {vkey: cosigned_size(connection, vkey) for vkey in self._witness_urls}
        size = checkpoint_size(note)
        collected = []
        for vkey, url in self._witness_urls.items():
            if cosigned[vkey] == size:
                continue
            try:
                lines = request_cosignature(
                    self._http,
                    url,
                    note,
                    cosigned[vkey] or 0,
                    lambda old: prove_tree(old, size, self._store),
                )
                if vkey in self.add_cosignatures(note + lines):
                    collected.append(vkey)
            except GatewayError as exc:
                log.warning("witness %s did not cosign size %d: %s", url, size, exc.detail)
        return collected

    def signed_head(self) -> tuple[str, Checkpoint]:
        """The latest signed checkpoint and the tree head it signs, checked with this log's key."""
        note = self.checkpoint()
        verifiers = [signer.verifier() for signer in self._signers]
        return note, open_checkpoint(note, verifiers, self._signer.name)

    def stored_checkpoint(self, tree_size: int) -> str | None:
        """The checkpoint of ``tree_size`` as the log signed it, if it signed one."""
        with self._engine.connect() as connection:
            return checkpoint_note(connection, tree_size)

    def verifier_key(self) -> str:
        """The note verifier key ``<name>+<hex key id>+<base64(0x01 || key)>``."""
        return self._signer.verifier().vkey

    def prove_inclusion(self, index: int, tree_size: int) -> list[bytes]:
        self._require_signed(tree_size)
        return prove_record(index, tree_size, self._store)

    def prove_consistency(self, from_size: int, to_size: int) -> list[bytes]:
        self._require_signed(to_size)
        return prove_tree(from_size, to_size, self._store)

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaves ``[start, end)``, at most :data:`MAX_LEAVES_PAGE`, within the checkpoint."""
        if not 0 <= start < end or end - start > MAX_LEAVES_PAGE:
            raise InvalidLeafRange(
                f"a page of leaves is 1 to {MAX_LEAVES_PAGE} indexes, start < end"
            )
        with self._engine.connect() as connection:
            signed = latest_checkpoint_size(connection) or 0
            if end > signed:
                raise InvalidLeafRange(f"end {end} is beyond the latest checkpoint's {signed}")
            return read_leaves(connection, start, end)

    def tile(self, tile: Tile) -> bytes:
        """A C2SP tlog-tiles hash tile or entry bundle of the latest checkpoint's tree.

        One this process read before comes from memory (:class:`audit.tiles.TileCache`: a
        tile, full or partial of a width, can never change). Otherwise it is computed from
        what the log stores: a hash tile is one read of stored hashes
        (:func:`audit.tiles.read_tile`), an entry bundle one read of leaves, after the latest
        checkpoint's size.
        """
        cached = self._tiles.get(tile)
        if cached is not None:
            return cached
        data = self._read_tile(tile)
        self._tiles.put(tile, data)
        return data

    def _read_tile(self, tile: Tile) -> bytes:
        with self._engine.connect() as connection:
            signed = latest_checkpoint_size(connection) or 0
            if tile.level is not None:
                return read_tile(tile, signed, ConnectionHashReader(connection))
            require_available(tile, signed)
            start = tile.first_leaf()
            return entry_bundle(read_leaves(connection, start, start + tile.width))

    def _require_signed(self, tree_size: int) -> None:
        with self._engine.connect() as connection:
            signed = latest_checkpoint_size(connection) or 0
        if tree_size > signed:
            raise InvalidProofRequest(
                f"tree size {tree_size} is beyond the latest checkpoint's {signed}"
            )

    @contextmanager
    def _appending(
        self,
        event: AuditEvent,
        openings: Openings | None,
        settlement: Settlement | None,
        submit: _Submit,
    ) -> Iterator[Receipt]:
        """One append, from its submission (to ``submit``) to its outcome: the block waits for
        the receipt (and raises what failed it). The entry's companions are held for its batch
        meanwhile, and dropped if it is withdrawn or fails; its settlement's failure is raised
        here."""
        leaf = encode(event)
        _check_openings(event, openings)
        hashed = leaf_hash(leaf)
        started = time.perf_counter()
        outcome = "failed"
        try:
            with tracer.start_as_current_span(SPAN_AUDIT) as span:
                if openings is not None or settlement is not None:
                    self._store.expect(hashed, Companion(openings, settlement))
                receipt = None
                try:
                    receipt = submit(leaf, hashed=hashed)
                    yield receipt
                except BaseException:
                    if receipt is None or receipt.cancel() or receipt.done():
                        self._store.forget(hashed)  # a running batch takes them still
                    raise
                self._store.settled(hashed)
                span.set_attribute("audit.leaf_index", receipt.result().leaf_index)
            outcome = "durable"
        finally:
            elapsed = time.perf_counter() - started
            AUDIT_APPEND_DURATION.record(elapsed, {"audit.outcome": outcome})


@contextmanager
def running_audit_log(
    engine: Engine,
    settings: Settings,
    keys: GatewayKeys,
    writer: Writer = "thread",
    preload: Sequence[str] = (),
) -> Iterator[AuditLog]:
    """The gateway's log with its checkpoint thread running; flushed and stopped on exit.
    ``writer``: who writes its batches on SQLite (:data:`Writer`); a writer process imports
    the modules of ``preload`` first (those of the settlements it will receive)."""
    audit_log = AuditLog(
        engine,
        origin=settings.log_origin,
        log_key=keys.log,
        interval=settings.checkpoint_interval,
        retiring_keys=keys.log_retiring,
        witness_keys=settings.audit_witness_keys,
        witness_urls=settings.audit_witness_urls,
        writer=writer,
        preload=preload,
    )
    audit_log.start()
    try:
        yield audit_log
    finally:
        audit_log.close()


class _Submit(Protocol):
    """A sequencer's ``submit``, its ``notify`` given."""

    def __call__(self, leaf: bytes, *, hashed: bytes) -> Receipt: ...


def batch_window(engine: Engine) -> float:
    """How long a batch of several entries waits for more (:class:`audit.sequencer.Sequencer`).
    Not at all on PostgreSQL: the writers waiting for the log's lock are queued, and a batch takes
    the entries queued while it waited (:data:`audit.sequencer.More`), so a window only delays
    the callers, who are waiting for their answers - two processes, alternated: 1,670 -> 2,086
    inquiries/s without it (5 December). SQLite's writers wait for its write lock by polling:
    the window is where another process's writer gets its turn."""
    return 0.0 if engine.dialect.name == "postgresql" else MAX_DELAY


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # none running: no appends are awaited on one
        return None


def _wait(future: Receipt, timeout: float) -> Appended:
    try:
        return future.result(timeout=timeout)
    except TimeoutError as exc:
        if future.cancel():
            raise AuditUnavailable(NOT_IN_TIME) from exc
    return future.result()  # its batch is being written: its outcome is the answer


class _Waiter:
    """What an append awaited on the event loop waits on: woken once the receipt is settled -
    by the sequencer's thread (called), or on the loop (:meth:`wake`) - or by the loop's timer
    when the wait times out first."""

    __slots__ = ("_loop", "_woken")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._woken: asyncio.Future[None] | None = None

    def __call__(self) -> None:
        """The receipt is settled (called on the sequencer's thread)."""
        with suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(self.wake)

    async def wait(self, timeout: float | None) -> None:
        """Until the receipt is settled or ``timeout`` seconds passed (None: no limit). Called
        with no ``await`` since the receipt was submitted or found pending: a wake-up the
        sequencer sent meanwhile runs on the loop only once this waits, so it is never lost."""
        self._woken = self._loop.create_future()
        timer = None if timeout is None else self._loop.call_later(timeout, self.wake)
        try:
            await self._woken
        finally:
            if timer is not None:
                timer.cancel()

    def wake(self) -> None:
        """The receipt is settled or the wait timed out (on the loop)."""
        if self._woken is not None and not self._woken.done():
            self._woken.set_result(None)


@dataclass(frozen=True)
class Sealed:
    """The commitments of one entry, and the openings the log keeps for them (or None)."""

    subject_commitment: bytes
    response_commitment: bytes
    openings: Openings | None
    _salt: bytes = field(repr=False)

    def commitment(self, domain: CommitmentDomain, value: bytes) -> bytes:
        """Another value of the entry committed under the subject's salt (one opening for all)."""
        return commit(domain, self._salt, value)


def seal(subject_key: str, response: bytes | None = None, *, linkable: bool = True) -> Sealed:
    """Commit to the subject's internal key and to ``response`` (the exact bytes served).

    ``linkable``: keep the salts and the key for the subject's access log (Art. 63); otherwise
    the salt is dropped here and the entry can never be linked to the subject (no response
    commitment either: nobody could open it).
    """
    salt = new_salt()
    subject = commit(CommitmentDomain.SUBJECT, salt, subject_key.encode())
    if not linkable:
        return Sealed(subject, b"", None, salt)
    if response is None:
        return Sealed(subject, b"", Openings(salt, None, subject_key), salt)
    response_salt = new_salt()
    response_commitment = commit(CommitmentDomain.RESPONSE, response_salt, response)
    return Sealed(subject, response_commitment, Openings(salt, response_salt, subject_key), salt)


def _check_openings(event: AuditEvent, openings: Openings | None) -> None:
    if openings is None:
        if event.response_commitment:
            raise InvalidLeaf("a response commitment goes with its openings")
        return
    if len(openings.subject_salt) != SALT_SIZE:
        raise InvalidLeaf(f"the subject salt must be {SALT_SIZE} bytes")
    if bool(event.response_commitment) != (openings.response_salt is not None):
        raise InvalidLeaf("a response salt goes with a response commitment, and only then")
    if openings.response_salt is not None and len(openings.response_salt) != SALT_SIZE:
        raise InvalidLeaf(f"the response salt must be {SALT_SIZE} bytes")


def _witness_verifier(vkey: str) -> NoteVerifier:
    verifier = parse_verifier_key(vkey)
    if verifier.key_type is not KeyType.COSIGNATURE_V1:
        raise MalformedNote(f"witness key {verifier.name} is not a cosignature/v1 verifier key")
    return verifier


def _cosignatures(note: str, size: int, witnesses: Sequence[NoteVerifier]) -> list[Cosignature]:
    """The verified cosignature line of each configured witness that cosigned ``note``."""
    _, lines = split_note(note)
    raw_lines = note[note.rfind("\n\n") + 2 : -1].split("\n")
    found = []
    for witness in witnesses:
        signed = [
            raw
            for (name, key_id, _), raw in zip(lines, raw_lines, strict=True)
            if (name, key_id) == (witness.name, witness.key_id)
        ]
        if signed:
            cosigned_at = verify_cosignature(note, witness)
            found.append(Cosignature(size, witness.vkey, signed[0], cosigned_at))
    if not found:
        raise UntrustedNote("no witness this gateway accepts cosigned the checkpoint")
    return found
