"""The HTTP face of a C2SP tlog-witness (``gateway audit witness serve``).

One route, ``POST /add-checkpoint`` (the submission prefix is the server's root): the body is
parsed as :class:`audit.witness.AddCheckpoint` and handed to :class:`audit.witness.Witness`.
``200`` carries the cosignature lines; ``409`` the witness's size as ``text/x.tlog.size``, as
the specification requires; every other refusal is a problem document with its status
(400, 403, 404, 422).
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from audit.witness import (
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    Witness,
    WitnessBadRequest,
    WitnessConflict,
)
from gateway.problem_handlers import add_exception_handlers, problem_responses

MAX_REQUEST_BYTES = 64 * 1024


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(
        title="C2SP tlog-witness",
        description=f"Witness {witness.verifier.vkey}",
        docs_url=None,
        redoc_url=None,
    )
    add_exception_handlers(app, https=False)

    @app.post(
        "/add-checkpoint",
        summary="Cosign a checkpoint that extends the last one cosigned (C2SP tlog-witness)",
        responses={
            **problem_responses(400, 403, 404, 422),
            409: {"content": {SIZE_MEDIA_TYPE: {}}, "description": "The witness's size"},
        },
    )
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            raise WitnessBadRequest(f"an add-checkpoint request is at most {MAX_REQUEST_BYTES} B")
        try:
            parsed = AddCheckpoint.parse(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise WitnessBadRequest("an add-checkpoint request is UTF-8 text") from None
        try:
            lines = await run_in_threadpool(witness.add_checkpoint, parsed)
        except WitnessConflict as conflict:
            return Response(
                f"{conflict.size}\n", status_code=409, headers={"Content-Type": SIZE_MEDIA_TYPE}
            )
        return Response(lines, media_type="text/plain; charset=utf-8")

    return app
