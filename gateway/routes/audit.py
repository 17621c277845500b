"""The audit log's public surface (Art. 39 para. 3, Art. 61(3), Art. 63).

Checkpoints are C2SP tlog-checkpoints signed as C2SP signed-notes; the verifier key is the
note verifier key; proofs are RFC 9162 sections 2.1.3 / 2.1.4 as ``{"hashes": [base64...]}``.
Everything but the leaves is public: anyone may check that the log only grows. The leaves
(commitments, never personal data) are for regulators, who verify the whole log.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from audit.tlog import proof_json
from gateway.audit_log.service import MAX_LEAVES_PAGE
from gateway.auth import RegulatorCaller
from gateway.deps import AuditService
from gateway.problem_handlers import problem_responses

router = APIRouter(prefix="/v1/audit", tags=["audit"])
PUBLIC: dict[str, Any] = {"security": []}
TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}
Index = Annotated[int, Query(ge=0, lt=1 << 63, description="Leaf index, from 0")]
Size = Annotated[int, Query(ge=0, lt=1 << 63, description="Tree size (number of leaves)")]


class Proof(BaseModel):
    hashes: list[str] = Field(description="Standard base64 of each 32-byte hash, RFC 9162 order")


class Leaves(BaseModel):
    leaves: list[str] = Field(description="Standard base64 of the exact bytes that were hashed")


def _proof(hashes: list[bytes]) -> Response:
    return Response(proof_json(hashes), media_type="application/json")


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (C2SP tlog-checkpoint, signed-note)",
    response_class=PlainTextResponse,
    responses={**TEXT, **problem_responses(404, 503)},
    openapi_extra=PUBLIC,
)
def checkpoint(audit_log: AuditService) -> str:
    return audit_log.checkpoint()


@router.get(
    "/verifier-key",
    summary="The note verifier key of the checkpoints: <name>+<hex key id>+<base64 key>",
    response_class=PlainTextResponse,
    responses=TEXT,
    openapi_extra=PUBLIC,
)
def verifier_key(audit_log: AuditService) -> str:
    return audit_log.verifier_key()


@router.get(
    "/proofs/inclusion",
    summary="Inclusion proof of a leaf in a checkpointed tree (RFC 9162 section 2.1.3)",
    response_model=Proof,
    responses=problem_responses(422, 503),
    openapi_extra=PUBLIC,
)
def inclusion_proof(audit_log: AuditService, index: Index, tree_size: Size) -> Response:
    return _proof(audit_log.prove_inclusion(index, tree_size))


@router.get(
    "/proofs/consistency",
    summary="Consistency proof between two checkpointed trees (RFC 9162 section 2.1.4)",
    response_model=Proof,
    responses=problem_responses(422, 503),
    openapi_extra=PUBLIC,
)
def consistency_proof(audit_log: AuditService, from_size: Size, to_size: Size) -> Response:
    return _proof(audit_log.prove_consistency(from_size, to_size))


@router.get(
    "/leaves",
    summary=f"Leaves [start, end) of the log, at most {MAX_LEAVES_PAGE}; regulators only",
    responses=problem_responses(401, 403, 422, 503),
)
def leaves(
    audit_log: AuditService,
    _caller: RegulatorCaller,
    start: Index,
    end: Annotated[int, Query(ge=1, lt=1 << 63, description="First index not returned")],
) -> Leaves:
    encoded = [base64.b64encode(leaf).decode("ascii") for leaf in audit_log.leaves(start, end)]
    return Leaves(leaves=encoded)
