"""The audit log as a C2SP tlog-tiles log (Art. 39 para. 3, Art. 61(3)): static-style reads.

``checkpoint`` is the signed checkpoint (C2SP tlog-checkpoint, signed-note) with the
witnesses' cosignatures, cacheable for a few seconds; ``tile/<L>/<N>[.p/<W>]`` are the
Merkle tree's hash tiles and ``tile/entries/<N>[.p/<W>]`` the entry bundles, each cacheable
forever once full. Everything is public: a leaf holds codes, ids and salted commitments,
never personal data (:mod:`audit.leaf`). Any tlog-tiles client (Go's ``sumdb/tlog``, a
witness, a monitor) computes its own proofs from these tiles.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from audit.tiles import parse_tile_path
from gateway.deps import AuditService
from gateway.problem_handlers import problem_responses
from gateway.validation import Identifier, StrictRoute

PREFIX = "/v1/audit/tlog"
router = APIRouter(prefix=PREFIX, tags=["audit"], route_class=StrictRoute)
PUBLIC: dict[str, Any] = {"security": []}
CHECKPOINT_CACHE = "public, max-age=2"
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=60"
OCTETS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}
}


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint, C2SP tlog-tiles location",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **problem_responses(404, 503)},
    openapi_extra=PUBLIC,
)
def checkpoint(audit_log: AuditService) -> Response:
    return Response(
        audit_log.checkpoint(),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT_CACHE},
    )


@router.get(
    "/tile/{path:path}",
    summary="A hash tile tile/<L>/<N>[.p/<W>] or entry bundle tile/entries/<N>[.p/<W>]",
    description="C2SP tlog-tiles: <N> in three-digit path elements, all but the last "
    "prefixed with x (1234067 is x001/x234/067). 404 for a non-canonical path or a tile "
    "beyond the latest checkpoint.",
    response_class=Response,
    responses={**OCTETS, **problem_responses(404, 503)},
    openapi_extra=PUBLIC,
)
def tile(path: Identifier, audit_log: AuditService) -> Response:
    wanted = parse_tile_path(f"tile/{path}")
    cache = FULL_TILE_CACHE if wanted.full else PARTIAL_TILE_CACHE
    return Response(
        audit_log.tile(wanted),
        media_type="application/octet-stream",
        headers={"Cache-Control": cache},
    )
