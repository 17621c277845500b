"""The audit log's public surface (Art. 39 para. 3, Art. 61(3), Art. 63).

Checkpoints are C2SP tlog-checkpoints signed as C2SP signed-notes; the verifier key is the
note verifier key; proofs are RFC 9162 sections 2.1.3 / 2.1.4 as ``{"hashes": [base64...]}``.
Everything but the leaves is public: anyone may check that the log only grows. The leaves
(commitments, never personal data) are for regulators, who verify the whole log.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from audit.errors import MalformedNote
from audit.tlog import proof_json
from gateway.audit_log.service import MAX_LEAVES_PAGE
from gateway.auth import RegulatorCaller
from gateway.deps import AuditService
from gateway.problem_handlers import problem_responses
from gateway.validation import StrictRoute

router = APIRouter(route_class=StrictRoute, prefix="/v1/audit", tags=["audit"])
PUBLIC: dict[str, Any] = {"security": []}
TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}
Index = Annotated[int, Query(ge=0, lt=1 << 63, description="Leaf index, from 0")]
MAX_NOTE_BYTES = 64 * 1024
NOTE_BODY: dict[str, Any] = {
    "required": True,
    "content": {"text/plain": {"schema": {"type": "string"}}},
    "description": "The cosigned note exactly as the witness produced it (C2SP signed-note)",
}
Size = Annotated[int, Query(ge=0, lt=1 << 63, description="Tree size (number of leaves)")]


class Proof(BaseModel):
    hashes: list[str] = Field(description="Standard base64 of each 32-byte hash, RFC 9162 order")


class Leaves(BaseModel):
    leaves: list[str] = Field(description="Standard base64 of the exact bytes that were hashed")


class Cosigned(BaseModel):
    witnesses: list[str] = Field(
        description="Verifier keys of the witnesses whose cosignature was accepted"
    )


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


@router.post(
    "/cosignatures",
    summary="Submit a witness's cosignature of a checkpoint (C2SP tlog-cosignature/v1)",
    description="No token: the signature is the credential. Accepted only if the note's text "
    "is exactly a checkpoint this log signed and a witness the gateway is configured to accept "
    "(GATEWAY_AUDIT_WITNESS_KEYS) cosigned it; the checkpoint is then served with it.",
    responses=problem_responses(422),
    openapi_extra={**PUBLIC, "requestBody": NOTE_BODY},
)
async def cosignatures(request: Request, audit_log: AuditService) -> Cosigned:
    body = await request.body()
    if len(body) > MAX_NOTE_BYTES:
        raise MalformedNote(f"a cosigned note is at most {MAX_NOTE_BYTES} bytes")
    try:
        note = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedNote("a cosigned note is UTF-8 text") from None
    witnesses = await run_in_threadpool(audit_log.add_cosignatures, note)
    return Cosigned(witnesses=witnesses)


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
