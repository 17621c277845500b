"""The log's batches written by a process of their own (SQLite, while the gateway serves).

On SQLite one process writes the log. Written by the sequencer's thread in the serving
process (``GATEWAY_AUDIT_WRITER=thread``), a batch is hashed, bound, settled and committed
while that thread holds the interpreter lock the event loop needs, and hands it back and forth
around every statement. Measured under load (one process, authorized inquiries, alternated
with the thread on one province; `bench/RUNS.md`, the runs of 4 December 03:44 and 08:09): 12
to 26 % more inquiries served, and a lower p99, with the batches written by a child process -
and about 20 % more again once the loop itself hands the batches over, with no thread of the
serving process in between.

:class:`ProcessLogStore` is the :class:`audit.sequencer.AsyncLogStore` of the serving
process's :class:`audit.sequencer.LoopSequencer`: the appends awaited on the event loop (the
inquiries) are batched there, and each batch - its leaves, and their companions (openings,
settlements: :class:`~gateway.audit_log.repository.Companion`) - goes to the child over a pipe,
which the loop writes and reads without blocking. The child writes it with a
:class:`~gateway.audit_log.repository.SqlLogStore` of its own in ONE transaction, as the thread
does (``synchronous=FULL``: on the disk when it answers), and answers with the index written
at, the settlements that raised and the settlements as it settled them (a use counted reports
its denial on itself: :class:`gateway.inquiries.service.CountedUse`), which update the serving
process's own. Entries submitted meanwhile form the next batch. The appends made in threads
(the routes served in worker threads, the periodic jobs) are written by the sequencer's thread
in the serving process, on the same database: SQLite's write lock orders the two writers and
each batch reads the log's size under it. So is a batch with a companion that cannot cross
processes (a settlement made as a closure), in a worker thread.

Fail closed: a batch whose answer does not come back - the child died, the pipe broke - fails
whole (``AuditUnavailable``; its entries may be written, none is answered), and the next batch
starts a new child. The child ends when the pipe closes: when the log closes, or when the
serving process dies.

The pipe carries pickles between two processes of the same program, made and read by them
alone (an anonymous pipe, inherited by the child: nothing to connect to)."""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import threading
from collections.abc import Sequence
from contextlib import closing, suppress
from multiprocessing.connection import Connection

from audit.errors import AuditUnavailable
from audit.sequencer import Batch, More
from gateway.audit_log.repository import Companion, SqlLogStore
from gateway.storage.db import make_engine

_SPAWN = multiprocessing.get_context("spawn")  # never fork a threaded process
_HEADER = struct.Struct("!i")  # multiprocessing.connection's framing, which the child reads
STOP_TIMEOUT = 30.0


class ProcessLogStore:
    """:class:`audit.sequencer.AsyncLogStore` whose batches a child process writes, awaited on
    the event loop; ``local`` holds the leaves' companions (:meth:`SqlLogStore.expect`),
    reports the settlements that raised (:meth:`SqlLogStore.settled`) and writes the batches
    that cannot cross processes."""

    def __init__(self, local: SqlLogStore, database_url: str, preload: Sequence[str] = ()) -> None:
        self._local = local
        self._url = database_url
        self._preload = tuple(preload)
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._child: multiprocessing.process.BaseProcess | None = None

    def start(self) -> None:
        """Start the child now, not at the first batch, and return once it is ready: it has
        imported the modules of ``preload`` (those of the settlements it will receive)."""
        with self._lock:
            if self._socket is None:
                self._start()

    async def append_batch(self, batch: Batch, more: More | None = None) -> int:
        """Write ``batch`` in the child; ``more`` is not asked for - the child takes SQLite's
        write lock, and what is submitted meanwhile forms the next batch."""
        del more
        companions = self._local.take(batch.leaf_hashes)
        try:
            message = pickle.dumps((batch, companions), pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # a closure: written here
            return await asyncio.to_thread(self._local.append_taken, batch, companions)
        reply = await self._exchange(message)
        if isinstance(reply, str):
            raise AuditUnavailable(f"the audit log's writer could not write the batch: {reply}")
        size, failures, settled = reply
        for mine, theirs in zip(companions, settled, strict=True):
            if mine is not None and mine.settlement is not None:
                vars(mine.settlement).update(vars(theirs))
        self._local.unsettled(
            {
                batch.leaf_hashes[offset]: RuntimeError(failure)
                for offset, failure in failures.items()
            }
        )
        return size

    async def _exchange(self, message: bytes) -> _Reply:
        try:
            reader, writer = await self._streams()
            writer.write(_HEADER.pack(len(message)) + message)
            await writer.drain()
            (length,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
            reply: _Reply = pickle.loads(await reader.readexactly(length))  # noqa: S301 (the module's notes)
        except (EOFError, OSError) as exc:  # the child is gone: the next batch starts another
            await self.disconnect()
            self.close()
            raise AuditUnavailable("the audit log's writer process stopped") from exc
        return reply

    async def _streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The pipe as the event loop reads and writes it, the child started first if it is
        not running (at the first batch after one that found it stopped)."""
        if self._socket is None:
            await asyncio.to_thread(self.start)
        if self._stream is None:
            assert self._socket is not None
            self._stream = await asyncio.open_connection(sock=self._socket)
        return self._stream

    def _start(self) -> None:
        ours, theirs = _SPAWN.Pipe()
        child = _SPAWN.Process(
            target=serve, args=(theirs, self._url, self._preload), name="audit-writer", daemon=True
        )
        child.start()
        theirs.close()  # the child's end is the child's alone: its death closes the pipe
        self._child = child
        with closing(ours):
            try:
                ours.recv_bytes()  # ready
            except EOFError as exc:
                self._stop()
                raise AuditUnavailable("the audit log's writer process did not start") from exc
            self._socket = socket.socket(fileno=os.dup(ours.fileno()))

    def _stop(self) -> None:
        if self._stream is not None:
            with suppress(RuntimeError):  # its loop is closed: the socket is closed below
                self._stream[1].close()
        if self._socket is not None:
            self._socket.close()
        if self._child is not None:
            self._child.join(STOP_TIMEOUT)
            if self._child.is_alive():
                self._child.kill()
                self._child.join()
        self._socket, self._stream, self._child = None, None, None

    async def disconnect(self) -> None:
        """Close the event loop's side of the pipe, on the loop: a loop may keep a socket of its
        own (uvloop duplicates it), closed only once the loop runs again - the child would not
        see the pipe close while :meth:`close` waits for it. Then :meth:`close`."""
        if self._stream is not None:
            writer = self._stream[1]
            writer.close()
            with suppress(OSError):  # the pipe broke already
                await writer.wait_closed()

    def close(self) -> None:
        """End the child once it has written what it was given (the log is closing); on a
        loop, after :meth:`disconnect`."""
        with self._lock:
            self._stop()


_Reply = tuple[int, dict[int, str], Sequence[object]] | str
"""The size written at, the settlements that raised (by offset, described) and the
settlements as settled; or why the batch was not written."""


def serve(pipe: Connection, database_url: str, preload: Sequence[str]) -> None:
    """The child: write each batch received, answer, until the pipe closes. It ignores the
    signals that stop the serving process - a Ctrl-C reaches the whole process group, an
    orchestrator's stop may too - and ends once that process has written what was submitted
    and closed the pipe, or died."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for module in preload:
        importlib.import_module(module)
    store = SqlLogStore(make_engine(database_url))
    # The pipe closed, or the serving process died (a socket pair: reset when it had unread data)
    with closing(store), closing(pipe), suppress(EOFError, ConnectionError):
        pipe.send_bytes(b"ready")
        while True:
            batch, companions = pickle.loads(pipe.recv_bytes())  # noqa: S301 (the module's notes)
            pipe.send_bytes(pickle.dumps(_written(store, batch, companions)))


def _written(store: SqlLogStore, batch: Batch, companions: list[Companion | None]) -> _Reply:
    try:
        _, size, failures = store.write(batch, companions)
    except Exception as exc:  # the batch fails whole, in the serving process
        return repr(exc)
    settled = [c.settlement if c is not None else None for c in companions]
    return size, {offset: repr(failure) for offset, failure in failures.items()}, settled
