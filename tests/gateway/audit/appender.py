"""A gateway process that only appends: the subject of the multi-process and kill -9 tests.

``python -m tests.gateway.audit.appender DATABASE_URL VAR_DIR COUNT LABEL`` opens the log,
prints a ready line, waits for a line on stdin (so several start at once), then appends COUNT
entries (forever when COUNT is 0) from four threads, signing a checkpoint every few appends
and in the background. It prints one JSON line per durable append and per checkpoint it
signed, flushed before the next one starts: what the test reads was acknowledged.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections.abc import Iterator
from itertools import count
from pathlib import Path

from gateway.settings import Settings
from tests.gateway.audit.factories import audit_log_of, entry

CHECKPOINT_EVERY = 25
_print_lock = threading.Lock()


def emit(record: dict[str, object]) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def main(database_url: str, var_dir: str, total: int, label: str) -> None:
    settings = Settings(
        var_dir=Path(var_dir), database_url=database_url, checkpoint_interval=0.05, _env_file=None
    )
    numbers: Iterator[int] = count() if total == 0 else iter(range(total))
    numbers_lock = threading.Lock()
    with audit_log_of(settings) as audit_log:
        emit({"ready": label})
        sys.stdin.readline()  # the test starts every appender at once

        def work() -> None:
            while True:
                with numbers_lock:
                    number = next(numbers, None)
                if number is None:
                    return
                appended = audit_log.append(*entry(number, requester=f"{label}-{number}"))
                digest = base64.b64encode(appended.leaf_hash).decode()
                emit({"index": appended.leaf_index, "hash": digest, "label": label})
                if number % CHECKPOINT_EVERY == 0:
                    emit({"checkpoint": audit_log.publish_now()})

        workers = [threading.Thread(target=work) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        emit({"checkpoint": audit_log.publish_now()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
