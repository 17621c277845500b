"""C2SP tlog-tiles: canonical paths, widths, tiles from the stored hashes, proofs from tiles."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.errors import MalformedTile, TileNotFound
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.tiles import (
    TILE_WIDTH,
    Tile,
    TileCache,
    TileHashReader,
    entry_bundle,
    parse_entry_bundle,
    parse_tile_path,
    read_tile,
    split_tile,
    tile_width,
)
from audit.tlog import prove_record, prove_tree, tree_hash
from tests.audit.factories import distinct_leaves, mth, store_with

# The spec's examples, and the paths Go's sumdb/tlog writes (with its height element dropped).
PATHS = [
    (Tile(0, 1234067), "tile/0/x001/x234/067"),
    (Tile(0, 0), "tile/0/000"),
    (Tile(3, 999, 17), "tile/3/999.p/17"),
    (Tile(1, 1000), "tile/1/x001/000"),
    (Tile(None, 5, 255), "tile/entries/005.p/255"),
    (Tile(63, 1_000_000), "tile/63/x001/x000/000"),
    # Go's sumdb/tlog tlog_test.go (tilePaths), its height element dropped:
    (Tile(5, 123456078, 2), "tile/5/x123/x456/078.p/2"),
    (Tile(0, 3057500), "tile/0/x003/x057/500"),
    (Tile(None, 3057500, 2), "tile/entries/x003/x057/500.p/2"),
]


@pytest.mark.parametrize(("tile", "path"), PATHS)
def test_paths_are_encoded_as_the_spec_writes_them(tile: Tile, path: str) -> None:
    assert tile.path == path
    assert parse_tile_path(path) == tile


@given(
    st.one_of(st.none(), st.integers(0, 63)),
    st.integers(0, 1 << 40),
    st.integers(1, TILE_WIDTH),
)
def test_every_tile_has_one_path_that_parses_back(level: int | None, n: int, width: int) -> None:
    tile = Tile(level, n, width)
    assert parse_tile_path(tile.path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",  # leading zero in the level
        "tile/64/000",  # level beyond 63
        "tile/0/x000/001",  # leading zero element
        "tile/0/1",  # not three digits
        "tile/0/001/002",  # only the last element lacks the x
        "tile/0/000.p/256",  # a full width written as partial
        "tile/0/000.p/0",
        "tile/0/000.p/07",
        "tile/data/000",
        "tile/0/000/",
        "tile/5/123/456/078",  # Go's own rejected path
    ],
)
def test_non_canonical_paths_name_no_tile(path: str) -> None:
    with pytest.raises(TileNotFound):
        parse_tile_path(path)


def test_widths_follow_the_spec_example_of_a_70000_leaf_tree() -> None:
    assert [tile_width(0, n, 70_000) for n in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tile_width(1, n, 70_000) for n in (0, 1, 2)] == [256, 17, 0]
    assert [tile_width(2, n, 70_000) for n in (0, 1)] == [1, 0]
    assert (tile_width(0, 0, 256), tile_width(1, 0, 256)) == (256, 1)


def test_hash_tiles_hold_the_subtree_hashes_the_spec_defines() -> None:
    leaves = distinct_leaves(2 * TILE_WIDTH + 3)
    store = store_with(leaves, batch_size=97)
    size = len(leaves)
    level0 = split_tile(read_tile(Tile(0, 1), size, store), Tile(0, 1))
    assert level0 == [leaf_hash(leaf) for leaf in leaves[TILE_WIDTH : 2 * TILE_WIDTH]]
    partial = Tile(0, 2, 3)
    assert split_tile(read_tile(partial, size, store), partial) == [
        leaf_hash(leaf) for leaf in leaves[2 * TILE_WIDTH :]
    ]
    level1 = Tile(1, 0, 2)
    assert split_tile(read_tile(level1, size, store), level1) == [
        mth(leaves[:TILE_WIDTH]),
        mth(leaves[TILE_WIDTH : 2 * TILE_WIDTH]),
    ]


def test_tiles_beyond_the_tree_are_not_found() -> None:
    store = store_with(distinct_leaves(300))
    with pytest.raises(TileNotFound):
        read_tile(Tile(0, 1, 45), 300, store)
    with pytest.raises(TileNotFound):
        read_tile(Tile(0, 1), 300, store)
    with pytest.raises(TileNotFound):
        read_tile(Tile(1, 0, 2), 300, store)
    assert len(read_tile(Tile(0, 1, 44), 300, store)) == 44 * 32


def test_entry_bundles_are_uint16_length_prefixed() -> None:
    entries = [b"", b"a", b"\x00" * 300, b"leaf"]
    bundle = entry_bundle(entries)
    assert bundle[:5] == b"\x00\x00\x00\x01a"
    assert bundle[5:7] == (300).to_bytes(2, "big")
    assert parse_entry_bundle(bundle) == entries
    for truncated in (bundle[:-1], bundle + b"\x00"):
        with pytest.raises(MalformedTile):
            parse_entry_bundle(truncated)
    with pytest.raises(MalformedTile):
        entry_bundle([b"x" * 0x10000])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3 * TILE_WIDTH + 5), st.data())
def test_proofs_from_tiles_equal_proofs_from_stored_hashes(size: int, data: st.DataObject) -> None:
    leaves = distinct_leaves(size)
    store = store_with(leaves, batch_size=64)
    fetched: list[Tile] = []

    def fetch(tile: Tile) -> bytes:
        fetched.append(tile)
        return read_tile(tile, size, store)

    tiles = TileHashReader(size, fetch)
    root = tree_hash(size, tiles)
    assert root == tree_hash(size, store) == mth(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = prove_record(index, size, tiles)
    assert proof == prove_record(index, size, store)
    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)
    old = data.draw(st.integers(0, size))
    consistency = prove_tree(old, size, tiles)
    verify_consistency(old, size, consistency, mth(leaves[:old]), root)
    assert len(fetched) == len(set(fetched))


def test_a_tile_of_the_wrong_length_is_refused() -> None:
    reader = TileHashReader(300, lambda tile: b"\x00" * 31)
    with pytest.raises(MalformedTile):
        tree_hash(300, reader)


def test_the_cache_keeps_the_most_recently_used_tiles_within_its_budget() -> None:
    cache = TileCache(max_bytes=3 * 8192)
    tiles = [Tile(0, n) for n in range(4)]
    for tile in tiles:
        cache.put(tile, bytes(8192))
    assert cache.get(tiles[0]) is None  # the least recently used went first
    assert all(cache.get(tile) == bytes(8192) for tile in tiles[1:])
    cache.get(tiles[1])
    cache.put(Tile(1, 0), bytes(8192))
    assert cache.get(tiles[2]) is None and cache.get(tiles[1]) is not None
    cache.put(Tile(0, 9, 5), bytes(160))  # a partial tile is immutable too
    assert cache.get(Tile(0, 9, 5)) == bytes(160) and cache.get(Tile(0, 9, 6)) is None
    cache.put(Tile(None, 0), bytes(4 * 8192))
    assert cache.get(Tile(None, 0)) is None  # larger than the whole budget


def test_leaf_hashes_match_go_sumdb_tlog_record_hash() -> None:
    """tlog.RecordHash("hello world"), from Go's sumdb/tlog note_test.go (TestFormatTree)."""
    expected = base64.b64decode("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=")
    assert leaf_hash(b"hello world") == expected
