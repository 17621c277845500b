"""The offline verifier and the export format: reports, clear failures, progress, streaming."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import MalformedExport, VerificationFailed
from audit.export import ExportHeader, read_export, verify_export, write_export
from audit.merkle import EMPTY_ROOT
from audit.verify import verify_log
from tests.audit.factories import (
    ORIGIN,
    checkpoint_history,
    distinct_leaves,
    log_signer,
    store_with,
)

LEAVES = distinct_leaves(40)
STORE = store_with(LEAVES, batch_size=9)
SIGNER = log_signer()
TRUSTED = [SIGNER.verifier()]
NOTES = checkpoint_history(STORE, (0, 10, 33, 40), SIGNER)


def failure(**changes: object) -> str:
    arguments: dict[str, object] = {
        "leaves": LEAVES,
        "checkpoints": NOTES,
        "trusted": TRUSTED,
        "origin": ORIGIN,
        "stored_hashes": STORE.hashes(),
    }
    arguments.update(changes)
    with pytest.raises(VerificationFailed) as caught:
        verify_log(**arguments)  # type: ignore[arg-type]
    return caught.value.detail


def test_progress_is_reported_every_n_leaves() -> None:
    seen: list[int] = []
    report = verify_log(
        LEAVES, NOTES, TRUSTED, origin=ORIGIN, progress=seen.append, progress_every=16
    )
    assert seen == [16, 32]
    assert report.checkpoint.size == 40 and report.stored_hashes_checked == 0


def test_failures_name_the_index_or_checkpoint() -> None:
    assert "checkpoint of size 10" in failure(leaves=[b"x", *LEAVES[1:]], stored_hashes=None)
    assert "stored hash 5 (level 1, node 1)" in failure(
        stored_hashes=[*STORE.hashes()[:5], bytes(32), *STORE.hashes()[6:]]
    )
    assert "checkpoint #2" in failure(checkpoints=[*NOTES[:2], NOTES[2].replace("33", "34")])
    assert "more leaves" in failure(leaves=[*LEAVES, b"extra"])
    assert "39 leaves" in failure(leaves=LEAVES[:-1])
    assert "missing" in failure(stored_hashes=STORE.hashes()[:-1])
    assert "beyond index" in failure(stored_hashes=[*STORE.hashes(), bytes(32)])
    assert "no checkpoint" in failure(checkpoints=[])


def test_a_log_rolled_back_below_a_seen_checkpoint_fails() -> None:
    seen = [open_checkpoint(note, TRUSTED, ORIGIN) for note in NOTES]
    verify_log(LEAVES, NOTES, TRUSTED, origin=ORIGIN, seen=seen)
    rolled_back = failure(leaves=LEAVES[:33], checkpoints=NOTES[:3], seen=seen)
    assert "size 40 seen before" in rolled_back
    assert "size 0 seen before" in failure(seen=[Checkpoint(ORIGIN, 0, bytes(32))])


def test_an_empty_log_verifies_against_the_empty_root() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), [SIGNER])
    assert verify_log([], [note], TRUSTED, origin=ORIGIN, stored_hashes=[]).checkpoint.size == 0
    forged = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), [SIGNER])
    assert "size 0" in failure(leaves=[], checkpoints=[forged], stored_hashes=[])


def test_export_round_trip_and_verification() -> None:
    header = ExportHeader(ORIGIN, (SIGNER.verifier().vkey,), tuple(NOTES))
    out = io.StringIO()
    write_export(out, header, [*LEAVES, b""])
    read_header, leaves = read_export(io.StringIO(out.getvalue()))
    assert read_header == header and list(leaves) == [*LEAVES, b""]
    out = io.StringIO()
    write_export(out, header, LEAVES)
    assert verify_export(io.StringIO(out.getvalue()), TRUSTED).checkpoint.size == 40
    with pytest.raises(VerificationFailed):
        verify_export(io.StringIO(out.getvalue()), [log_signer().verifier()])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json\n",
        "[]\n",
        json.dumps({"format": "other", "origin": ORIGIN}) + "\n",
        json.dumps({"format": "credit-gateway-audit-export/v1", "origin": 1}) + "\n",
        json.dumps(
            {"format": "credit-gateway-audit-export/v1", "origin": ORIGIN, "checkpoints": [1]}
        )
        + "\n",
    ],
)
def test_malformed_export_headers_are_rejected(text: str) -> None:
    with pytest.raises(MalformedExport):
        read_export(io.StringIO(text))


@pytest.mark.parametrize("line", ["AAAA", '"AA!A"', '"', '"AAA"'])
def test_malformed_export_leaves_are_rejected(line: str) -> None:
    out = io.StringIO()
    write_export(out, ExportHeader(ORIGIN, (), tuple(NOTES)), [])
    _, leaves = read_export(io.StringIO(out.getvalue() + line + "\n"))
    with pytest.raises(MalformedExport):
        list(leaves)


@pytest.mark.parametrize("workers", [1, 3])
def test_an_export_is_read_in_blocks_from_text_or_bytes(
    monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Blocks end anywhere in a line; every leaf is read once, from a text or a binary stream,
    and a malformed line is named by its number whichever block it is in - on one process or
    on several."""
    monkeypatch.setattr("audit.export.BLOCK", 7)
    header = ExportHeader(ORIGIN, (SIGNER.verifier().vkey,), tuple(NOTES))
    out = io.StringIO()
    write_export(out, header, LEAVES)
    text = out.getvalue()
    assert list(read_export(io.StringIO(text))[1]) == LEAVES
    assert list(read_export(io.BytesIO(text.encode()))[1]) == LEAVES
    for stream in (io.BytesIO(text.encode()), io.StringIO(text.rstrip("\n"))):
        assert verify_export(stream, TRUSTED, workers=workers).checkpoint.size == 40
    lines = text.splitlines()
    for number, broken in [(30, '"AA!A"'), (31, "AAAA"), (40, '"'), (41, '"A"A"'), (3, "")]:
        changed = "\n".join([*lines[: number - 1], broken, *lines[number:]]) + "\n"
        for stream in (io.StringIO(changed), io.BytesIO(changed.encode())):
            with pytest.raises(MalformedExport, match=f"line {number} "):
                verify_export(stream, TRUSTED, workers=workers)
    with pytest.raises(MalformedExport, match="line 5 is not base64"):
        list(read_export(io.StringIO(text.replace(lines[4], '"AAA\u00e9"')))[1])


def test_several_processes_find_what_one_finds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Blocks of a few lines hashed on worker processes, sent to them or read again by them
    from the file: the same report, the same progress calls and the same failure - the first
    in the file's order - as on one process."""
    monkeypatch.setattr("audit.export.BLOCK", 50)
    out = io.StringIO()
    write_export(out, ExportHeader(ORIGIN, (), tuple(NOTES)), LEAVES)
    lines = out.getvalue().splitlines(keepends=True)
    changed = [*lines[:12], lines[13], lines[12], *lines[14:]]  # leaves 11 and 12 swapped
    exports = [
        lines,
        [*lines, '"AAAA"\n'],
        lines[:-3],
        changed,
        [*changed[:-1], '"AA!A"\n'],  # the swap fails first, at size 33
        [*lines[:30], '"AA!A"\n', *lines[31:]],
        [*lines[:5], lines[6], *lines[5:]],
    ]

    def outcome(export: list[str], workers: int, in_file: bool) -> tuple[str, list[int]]:
        path = tmp_path / "export.jsonl"
        path.write_text("".join(export))
        done: list[int] = []
        with path.open("rb") if in_file else io.StringIO("".join(export)) as stream:
            try:
                report = verify_export(
                    stream, TRUSTED, progress=done.append, progress_every=4, workers=workers
                )
            except (MalformedExport, VerificationFailed) as exc:
                return f"{type(exc).__name__}: {exc.detail}", done
        return f"verified {report.checkpoint.size}", done

    def mismatch(size: int) -> str:
        return (
            f"the leaves do not match the signed root of the checkpoint of size {size}: a leaf "
            f"before index {size} was changed, deleted, reordered or inserted"
        )

    alone = [outcome(export, 1, in_file=False) for export in exports]
    assert [found for found, _ in alone] == [
        "verified 40",
        "VerificationFailed: the log has more leaves than the latest checkpoint's 40",
        "VerificationFailed: the log has 37 leaves; the latest checkpoint has 40",
        *[f"VerificationFailed: {mismatch(33)}"] * 2,
        "MalformedExport: line 31 is not base64",
        f"VerificationFailed: {mismatch(10)}",
    ]
    for in_file in (False, True):
        assert [outcome(export, 3, in_file) for export in exports] == alone
