"""The log as a C2SP tlog-tiles log, on both backends: what is served verifies, with our code
and with Go's golang.org/x/mod/sumdb/note and sumdb/tlog reading it over real HTTP."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.leaf import encode
from audit.merkle import leaf_hash, root_from_leaves, verify_consistency, verify_inclusion
from audit.note import parse_verifier_key
from audit.tiles import TILE_WIDTH, Tile, TileHashReader, parse_entry_bundle, split_tile
from audit.tlog import prove_record, prove_tree, tree_hash
from gateway.audit_log.service import AuditLog
from gateway.routes.tlog import FULL_TILE_CACHE, PREFIX
from tests.gateway.audit.factories import entry
from tests.gateway.audit.golang import build
from tests.gateway.test_problems import assert_problem
from tests.live import serve

SIZE = 2 * TILE_WIDTH + 1  # two full level-0 tiles, a partial one, a partial level-1 tile
EARLIER = TILE_WIDTH - 3


@pytest.fixture
def grown(client: TestClient) -> tuple[Checkpoint, list[bytes]]:
    """A log of :data:`SIZE` entries, checkpoints at :data:`EARLIER` and :data:`SIZE`; the
    earlier tree head and every leaf."""
    audit_log: AuditLog = client.app.state.audit_log  # type: ignore[attr-defined]
    leaves = []
    for number in range(SIZE):
        event, openings = entry(number)
        audit_log.append(event, openings)
        leaves.append(encode(event))
        if number + 1 == EARLIER:
            audit_log.publish_now()
            earlier = audit_log.signed_head()[1]
    audit_log.publish_now()
    return earlier, leaves


def tile(client: TestClient, path: str) -> bytes:
    response = client.get(f"{PREFIX}/{path}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    content: bytes = response.content
    return content


def test_tiles_and_bundles_verify_against_the_checkpoint(
    client: TestClient, grown: tuple[Checkpoint, list[bytes]]
) -> None:
    earlier, leaves = grown
    key = parse_verifier_key(client.get("/v1/audit/verifier-key").text)
    served = client.get(f"{PREFIX}/checkpoint")
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.text == client.get("/v1/audit/checkpoint").text
    head = open_checkpoint(served.text, [key], key.name)
    assert head.size == SIZE

    entries = [
        *parse_entry_bundle(tile(client, "tile/entries/000")),
        *parse_entry_bundle(tile(client, "tile/entries/001")),
        *parse_entry_bundle(tile(client, "tile/entries/002.p/1")),
    ]
    assert entries == leaves
    reader = TileHashReader(head.size, lambda t: tile(client, t.path))
    assert tree_hash(head.size, reader) == head.root
    for index in (0, 255, 256, SIZE - 1):
        proof = prove_record(index, head.size, reader)
        verify_inclusion(leaf_hash(leaves[index]), index, head.size, proof, head.root)
    proof = prove_tree(earlier.size, head.size, reader)
    verify_consistency(earlier.size, head.size, proof, earlier.root, head.root)
    level1 = split_tile(tile(client, "tile/1/000.p/2"), Tile(1, 0, 2))
    assert level1 == [root_from_leaves(leaves[:256]), root_from_leaves(leaves[256:512])]


def test_full_tiles_are_cached_forever_partial_ones_briefly(
    client: TestClient, grown: tuple[Checkpoint, list[bytes]]
) -> None:
    assert client.get(f"{PREFIX}/tile/0/001").headers["cache-control"] == FULL_TILE_CACHE
    assert client.get(f"{PREFIX}/tile/entries/000").headers["cache-control"] == FULL_TILE_CACHE
    partial = client.get(f"{PREFIX}/tile/0/002.p/1").headers["cache-control"]
    assert "immutable" not in partial
    assert "max-age=2" in client.get(f"{PREFIX}/checkpoint").headers["cache-control"]
    # a narrower partial tile is a prefix of the tile: the same hashes, also served
    assert tile(client, "tile/0/001.p/7") == tile(client, "tile/0/001")[: 7 * 32]


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/002",  # not full at the checkpoint
        "tile/0/002.p/2",  # wider than the checkpoint's partial tile
        "tile/0/003.p/1",
        "tile/1/000",
        "tile/2/000.p/1",
        "tile/entries/002",
        "tile/entries/002.p/2",
        "tile/0/x000/001",  # not canonical
        "tile/0/1",
        "tile/8/0/000",  # Go's sumdb path, with its height element
    ],
)
def test_tiles_beyond_the_checkpoint_or_misnamed_are_404_problems(
    client: TestClient, grown: tuple[Checkpoint, list[bytes]], path: str
) -> None:
    assert_problem(client.get(f"{PREFIX}/{path}"), 404)


def test_an_empty_log_has_a_checkpoint_and_no_tile(client: TestClient) -> None:
    assert client.get(f"{PREFIX}/checkpoint").text.split("\n")[1] == "0"
    assert_problem(client.get(f"{PREFIX}/tile/0/000.p/1"), 404)
    assert_problem(client.get(f"{PREFIX}/tile/entries/000.p/1"), 404)


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("tlogcheck", tmp_path_factory.mktemp("go"))


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    with TestClient(app), serve(app) as url:
        yield url


def test_go_sumdb_tlog_reads_and_verifies_the_tiles(
    app: FastAPI, live: str, tlogcheck: Path
) -> None:
    audit_log: AuditLog = app.state.audit_log
    for number in range(EARLIER):
        audit_log.append(*entry(number))
    audit_log.publish_now()
    earlier = audit_log.signed_head()[1]
    for number in range(EARLIER, SIZE):
        audit_log.append(*entry(number))
    audit_log.publish_now()
    vkey = audit_log.verifier_key()
    old_root = base64.b64encode(earlier.root).decode()
    command = [str(tlogcheck), "verify", f"{live}{PREFIX}", vkey, str(earlier.size), old_root]
    result = run(command)
    assert result.returncode == 0, result.stdout + result.stderr
    head = audit_log.signed_head()[1]
    root = base64.b64encode(head.root).decode()
    assert result.stdout == f"verified {head.origin} {SIZE} {root}\n"

    forged = [str(tlogcheck), "verify", f"{live}{PREFIX}", vkey, str(earlier.size), root]
    refused = run(forged)
    assert refused.returncode == 1
    assert refused.stdout.startswith(f"FAILED: consistency with the tree of {earlier.size}")


def test_go_writes_the_same_tile_paths(tlogcheck: Path) -> None:
    tiles = [Tile(0, 1234067), Tile(None, 5, 255), Tile(3, 999, 17), Tile(63, 10**12, 1)]
    lines = "".join(f"{-1 if t.level is None else t.level} {t.n} {t.width}\n" for t in tiles)
    result = subprocess.run(
        [str(tlogcheck), "paths"], input=lines, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [t.path for t in tiles]
