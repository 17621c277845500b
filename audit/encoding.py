"""Big-endian ``uint16`` length-prefixed byte strings: the leaf's fields (:mod:`audit.leaf`)
and the entries of a C2SP tlog-tiles entry bundle (:mod:`audit.tiles`) are both written so."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from problems import GatewayError

MAX_PREFIXED = 0xFFFF
_U16 = struct.Struct(">H")


def join_prefixed(items: Iterable[bytes], error: type[GatewayError], what: str) -> bytes:
    """Each item as its ``uint16`` length then its bytes; ``error`` for an item too long."""
    parts = []
    for item in items:
        if len(item) > MAX_PREFIXED:
            raise error(f"{what} is longer than {MAX_PREFIXED} bytes")
        parts.append(_U16.pack(len(item)) + item)
    return b"".join(parts)


def split_prefixed(data: bytes, error: type[GatewayError], what: str) -> Iterator[bytes]:
    """The items of ``data``; ``error`` when it ends inside a length or an item."""
    offset = 0
    while offset < len(data):
        if offset + _U16.size > len(data):
            raise error(f"truncated length of {what}")
        (length,) = _U16.unpack_from(data, offset)
        offset += _U16.size
        if offset + length > len(data):
            raise error(f"truncated {what}")
        yield data[offset : offset + length]
        offset += length
