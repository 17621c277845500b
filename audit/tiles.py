"""C2SP tlog-tiles: the log's Merkle tree and entries as static tiles (RFC 6962 hashing).

A tile at level ``L`` holds up to 256 consecutive hashes of tree level ``8 * L``: hash ``i``
of tile ``N`` is ``MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L])``. Full tiles are
256 hashes (8,192 bytes); the rightmost tile of a level is *partial*, of width
``floor(size / 256**L) mod 256``. Entry bundles hold the entries of the level-0 tile of the
same index, each as a big-endian ``uint16`` length and the entry's bytes.

Paths, relative to the log's prefix::

    tile/<L>/<N>[.p/<W>]        tile/entries/<N>[.p/<W>]

``L`` is 0..63 and ``W`` 1..255, decimal without leading zeros; ``N`` is written in
zero-padded three-digit path elements, all but the last prefixed with ``x``
(1234067 -> ``x001/x234/067``). :func:`parse_tile_path` accepts exactly the canonical form,
so one tile has one path (and one cache entry).

Every tile hash is a hash the log already stores in the layout of :mod:`audit.tlog`, so a
tile is read (:func:`read_tile`) with one :meth:`~audit.tlog.HashReader.read_hashes` call;
tiles never change, so a server keeps the ones it read in a :class:`TileCache`.
:class:`TileHashReader` goes the other way: a :class:`~audit.tlog.HashReader` over tiles, so
:func:`audit.tlog.prove_record` and :func:`audit.tlog.prove_tree` compute proofs from the tiles
a client fetched, as Go's ``sumdb/tlog.TileHashReader`` does.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from audit.encoding import join_prefixed, split_prefixed
from audit.errors import InvalidProofRequest, MalformedTile, TileNotFound
from audit.merkle import HASH_SIZE, subtree_hash
from audit.tlog import HashReader, split_stored_hash_index, stored_hash_index

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<n>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


@dataclass(frozen=True)
class Tile:
    """Tile ``n`` of ``level`` (``None``: the entry bundle), ``width`` hashes or entries wide."""

    level: int | None
    n: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise TileNotFound(f"a tile level is 0 to {MAX_LEVEL}")
        if self.n < 0 or not 1 <= self.width <= TILE_WIDTH:
            raise TileNotFound(f"a tile index is >= 0 and its width 1 to {TILE_WIDTH}")

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """The canonical tlog-tiles path of the tile."""
        level = "entries" if self.level is None else str(self.level)
        elements = [f"{self.n % 1000:03d}"]
        n = self.n // 1000
        while n:
            elements.insert(0, f"x{n % 1000:03d}")
            n //= 1000
        partial = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{'/'.join(elements)}{partial}"

    def first_leaf(self) -> int:
        """The index of the first leaf (entry) the tile covers."""
        return self.n << (TILE_HEIGHT * (1 + (self.level or 0)))


def parse_tile_path(path: str) -> Tile:
    """The tile a canonical tlog-tiles path names; anything else raises :class:`TileNotFound`."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileNotFound("a tile path is tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    elements = match["n"].split("/")
    if len(elements) > 1 and elements[0] == "x000":
        raise TileNotFound("a tile index has no leading zero path elements")
    width = int(match["width"] or TILE_WIDTH)
    if match["width"] and width == TILE_WIDTH:
        raise TileNotFound("a partial tile is 1 to 255 wide")
    level = None if match["level"] == "entries" else int(match["level"])
    return Tile(level, int("".join(e.lstrip("x") for e in elements)), width)


def tile_width(level: int, n: int, tree_size: int) -> int:
    """How many hashes (level 0: entries) tile ``n`` of ``level`` has in a tree of ``tree_size``.

    0 when the tile is empty at that size, at most :data:`TILE_WIDTH`.
    """
    return max(0, min(TILE_WIDTH, (tree_size >> (TILE_HEIGHT * level)) - n * TILE_WIDTH))


def require_available(tile: Tile, tree_size: int) -> None:
    """Raise :class:`~audit.errors.TileNotFound` unless the tile exists at ``tree_size``.

    A partial tile narrower than what the tree holds is the first ``width`` hashes of the
    tile: immutable like a full tile, so it is served too.
    """
    available = tile_width(tile.level or 0, tile.n, tree_size)
    if tile.width > available:
        raise TileNotFound(
            f"{tile.path} is beyond the latest checkpoint's tree of {tree_size} leaves"
        )


def tile_hash_indexes(tile: Tile) -> list[int]:
    """The stored-hash indexes (:func:`audit.tlog.stored_hash_index`) of a hash tile."""
    level = TILE_HEIGHT * (tile.level or 0)
    first = tile.n * TILE_WIDTH
    return [stored_hash_index(level, first + i) for i in range(tile.width)]


def read_tile(tile: Tile, tree_size: int, reader: HashReader) -> bytes:
    """The bytes of hash tile ``tile`` (concatenated hashes) of the tree of ``tree_size``."""
    if tile.level is None:
        raise MalformedTile("an entry bundle is read from the leaves, not the hashes")
    require_available(tile, tree_size)
    return b"".join(reader.read_hashes(tile_hash_indexes(tile)))


def entry_bundle(entries: Iterable[bytes]) -> bytes:
    """Entries as a tlog-tiles entry bundle: each a big-endian ``uint16`` length, then bytes."""
    return join_prefixed(entries, MalformedTile, "an entry of a bundle")


def parse_entry_bundle(bundle: bytes) -> list[bytes]:
    """The entries of a bundle; raises on a truncated or trailing entry."""
    return list(split_prefixed(bundle, MalformedTile, "an entry of a bundle"))


def split_tile(data: bytes, tile: Tile) -> list[bytes]:
    """The hashes of a fetched hash tile; raises unless it holds exactly ``tile.width``."""
    if len(data) != tile.width * HASH_SIZE:
        raise MalformedTile(f"{tile.path} must be {tile.width * HASH_SIZE} bytes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


class TileHashReader:
    """:class:`~audit.tlog.HashReader` of the tree of ``tree_size`` from its tiles.

    ``fetch(tile)`` returns the tile's bytes (over HTTP, from a cache); each tile is fetched
    once. A stored hash at a level between tile levels is recomputed from the tile below.
    The hashes are not trusted: a proof computed from them must be verified against a signed
    checkpoint, which fails if any tile lied.
    """

    def __init__(self, tree_size: int, fetch: Callable[[Tile], bytes]) -> None:
        self._size = tree_size
        self._fetch = fetch
        self._tiles: dict[Tile, list[bytes]] = {}

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [self._hash(*split_stored_hash_index(index)) for index in indexes]

    def _hash(self, level: int, n: int) -> bytes:
        tile_level, height = divmod(level, TILE_HEIGHT)
        first, count = n << height, 1 << height
        number = first // TILE_WIDTH
        width = tile_width(tile_level, number, self._size)
        if first % TILE_WIDTH + count > width:
            raise InvalidProofRequest(f"hash {n} of level {level} is not in the tree")
        hashes = self._tile(Tile(tile_level, number, width))
        below = hashes[first % TILE_WIDTH : first % TILE_WIDTH + count]
        return subtree_hash(below)

    def _tile(self, tile: Tile) -> list[bytes]:
        if tile not in self._tiles:
            self._tiles[tile] = split_tile(self._fetch(tile), tile)
        return self._tiles[tile]


class TileCache:
    """Tiles and bundles kept in memory, least recently used first out.

    A tile never changes once the log holds it - a full one, and a partial one of width ``W``
    too (the first ``W`` hashes of its tile; the log is append-only) - so a server may keep
    it: a hit costs no storage read. Thread-safe.
    """

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._tiles: OrderedDict[Tile, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tile: Tile) -> bytes | None:
        with self._lock:
            data = self._tiles.get(tile)
            if data is not None:
                self._tiles.move_to_end(tile)
            return data

    def put(self, tile: Tile, data: bytes) -> None:
        if len(data) > self._max_bytes:
            return
        with self._lock:
            if tile in self._tiles:
                return
            self._tiles[tile] = data
            self._bytes += len(data)
            while self._bytes > self._max_bytes:
                _, evicted = self._tiles.popitem(last=False)
                self._bytes -= len(evicted)
