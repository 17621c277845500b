"""``gateway audit``: verify, export and witness the audit log (Art. 39 para. 3, Art. 61(3)).

``verify`` recomputes the RFC 9162 tree from every leaf and opens every C2SP checkpoint with
the regulator's key; ``export`` writes the :mod:`audit.export` file; ``witness serve`` runs a
C2SP tlog-witness, ``witness pull`` relays a gateway's checkpoint to one. Exit status: 0
verified, 1 failed (the reason is printed), 2 usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from audit.bundle import verify_bundle
from audit.checkpoint import Checkpoint
from audit.errors import UntrustedNote
from audit.note import (
    Cosigner,
    NoteSigner,
    NoteVerifier,
    parse_verifier_key,
    split_note,
    verify_cosignature,
)
from audit.verify import VerificationReport
from audit.witness import Witness
from gateway.archive.integrity import verify_archive
from gateway.audit_log.remote import LogClient
from gateway.audit_log.repository import Verification, cosignature_lines, record_verification
from gateway.audit_log.verifier import (
    VerifierState,
    export_local,
    verify_export_file,
    verify_local,
    verify_remote,
)
from gateway.audit_log.witness import FileWitnessStore, relay_checkpoint
from gateway.keys import load_keys, read_ed25519_key
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.storage.migrate import require_current
from gateway.witness_server import create_witness_app
from problems import GatewayError

audit = typer.Typer(help="The audit log: verify, export, witness", no_args_is_help=True)

KeyOption = Annotated[
    str | None,
    typer.Option(help="Trusted note verifier key <name>+<hex>+<base64>; default: the pinned one"),
]
StateOption = Annotated[
    Path, typer.Option(help="Where the verifier keeps the checkpoints it verified")
]


@audit.command()
def verify(
    url: Annotated[str | None, typer.Option(help="Verify a gateway over HTTP")] = None,
    export: Annotated[Path | None, typer.Option(help="Verify an export file")] = None,
    local: Annotated[bool, typer.Option(help="Verify this database, stored hashes too")] = False,
    archive: Annotated[
        bool,
        typer.Option(help="With --local: check every record version against its audit leaf"),
    ] = False,
    key: KeyOption = None,
    state: StateOption = Path("audit-verifier.json"),
    token: Annotated[
        str | None,
        typer.Option(envvar="GATEWAY_AUDIT_TOKEN", help="A regulator's access token (--url)"),
    ] = None,
    require_witness: Annotated[
        list[str] | None,
        typer.Option(
            help="A witness's cosignature verifier key: the verified checkpoint must carry its "
            "valid cosignature (repeatable)"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="With --export: processes hashing the leaves; default: cores"),
    ] = None,
) -> None:
    """Verify the whole log against its signed checkpoints and those verified before."""
    if [url is not None, export is not None, local].count(True) != 1:
        raise typer.BadParameter("give exactly one of --url, --export or --local")
    if archive and not local:
        raise typer.BadParameter("--archive checks this database: give it with --local")
    if workers is not None and export is None:
        raise typer.BadParameter("--workers hash the leaves of an export: give it with --export")
    if url is not None and not token:
        raise typer.BadParameter("--url needs a regulator token: --token or GATEWAY_AUDIT_TOKEN")
    with _failing("verification FAILED"), _ProgressBar("verifying") as progress:
        remembered = VerifierState.load(state)
        archived = None
        witnessed = remembered.checkpoints
        if url is not None:
            with _client(url, token) as client:
                verifier = _trusted(remembered.trusted(key), client)
                report = verify_remote(client, verifier, remembered, progress)
        elif export is not None:
            verifier = _required(remembered.trusted(key))
            report = verify_export_file(export, verifier, remembered, progress, workers)
        else:
            settings = Settings()
            verifier = remembered.trusted(key) or _local_signer(settings).verifier()
            with _migrated_engine(settings) as engine, _recorded(engine) as outcome:
                report = verify_local(engine, verifier, remembered, progress)
                with engine.connect() as connection:
                    lines = cosignature_lines(connection, report.checkpoint.size)
                archived = verify_archive(engine) if archive else None
                outcome.append(report.checkpoint.size)
            witnessed = [note + "".join(f"{line}\n" for line in lines) for note in witnessed]
        cosigned = _require_witnesses(report.checkpoint, witnessed, require_witness)
    _print_report(report, state)
    for witness in cosigned:
        typer.echo(f"  cosigned by     {witness}")
    if archived is not None:
        typer.echo(
            f"  archive         {archived.versions_checked} record versions of "
            f"{archived.records} records match their leaves "
            f"({archived.purged_versions} purged)"
        )


def _require_witnesses(head: Checkpoint, notes: list[str], required: list[str] | None) -> list[str]:
    """Each required witness must have cosigned ``head`` in one of the verified ``notes``."""
    body = head.to_body()
    candidates = [note for note in notes if split_note(note)[0] == body]
    cosigned = []
    for vkey in required or []:
        witness = parse_verifier_key(vkey)
        if not any(_cosigned_by(note, witness) for note in candidates):
            raise UntrustedNote(
                f"the checkpoint of size {head.size} carries no valid cosignature by the "
                f"required witness {witness.name}"
            )
        cosigned.append(witness.vkey)
    return cosigned


def _cosigned_by(note: str, witness: NoteVerifier) -> bool:
    try:
        verify_cosignature(note, witness)
    except UntrustedNote:
        return False
    return True


@audit.command("verify-bundle")
def verify_bundle_file(
    bundle: Annotated[
        Path, typer.Argument(help="An inclusion bundle (GET /v1/me/access-log/bundle)")
    ],
    key: Annotated[str, typer.Option(help="The log's note verifier key <name>+<hex>+<base64>")],
) -> None:
    """Verify a citizen's inclusion bundle offline: checkpoints, every proof, consistency."""
    with _failing("verification FAILED"):
        report = verify_bundle(bundle.read_text(), parse_verifier_key(key))
    head = report.checkpoint
    typer.secho(f"verified {head.origin}", fg=typer.colors.GREEN)
    typer.echo(f"  checkpoint      size {head.size}, root {head.to_body().splitlines()[2]}")
    typer.echo(f"  entries         {report.entries} included in it")
    if report.previous is not None:
        typer.echo(f"  consistent with the checkpoint of size {report.previous.size} seen before")


@audit.command("export")
def export_log(
    output: Annotated[Path, typer.Option(help="The export file to write (JSON Lines)")],
) -> None:
    """Write a self-contained export of this database's log for offline verification."""
    with _failing("export failed"):
        settings = Settings()
        vkey = _local_signer(settings).verifier().vkey
        with _migrated_engine(settings) as engine, output.open("w") as out:
            size = export_local(engine, settings.log_origin, vkey, out)
    typer.echo(f"exported {size} leaves and their checkpoints to {output}")


witness = typer.Typer(
    help="C2SP tlog-witness: run a witness, or relay a gateway's checkpoint to one",
    no_args_is_help=True,
)
audit.add_typer(witness, name="witness")


@witness.command("serve")
def witness_serve(
    witness_key: Annotated[Path, typer.Option(help="PEM Ed25519 private key of the witness")],
    log: Annotated[
        list[str], typer.Option(help="A witnessed log's note verifier key; its name is the origin")
    ],
    state: Annotated[Path, typer.Option(help="Where the witness keeps each log's latest head")],
    name: Annotated[str, typer.Option(help="The witness's key name")] = "regulator-witness",
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8010,
) -> None:
    """Serve POST /add-checkpoint: cosign checkpoints that extend the last one cosigned."""
    with _failing("witness not started"):
        cosigner = Cosigner(name, read_ed25519_key(witness_key))
        logs = [parse_verifier_key(vkey) for vkey in log]
        app = create_witness_app(Witness(cosigner, logs, FileWitnessStore(state)))
    typer.echo(f"witness {cosigner.verifier().vkey} on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False)


@witness.command("pull")
def witness_pull(
    url: Annotated[str, typer.Option(help="The gateway whose checkpoint is relayed")],
    witness_url: Annotated[str, typer.Option(help="The witness's submission prefix")],
    submit: Annotated[
        bool, typer.Option(help="Post the cosigned note to the gateway, which serves it")
    ] = True,
) -> None:
    """Relay the gateway's latest checkpoint to a witness (add-checkpoint), print it cosigned."""
    with _failing("witness refused"), _client(url, None) as client:
        cosigned = relay_checkpoint(client, witness_url)
    typer.echo(cosigned, nl=False)
    if submit:
        with _failing("the gateway refused the cosignature"), _client(url, None) as client:
            client.submit_cosignature(cosigned)
        typer.echo(f"submitted to {url}", err=True)


class _ProgressBar:
    """A progress bar on stderr that appears once the number of leaves is known."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._stack = ExitStack()
        self._update: Callable[[int], None] | None = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        if self._update is None:
            bar = typer.progressbar(length=total, label=self._label, file=sys.stderr)
            self._update = self._stack.enter_context(bar).update
        self._update(done - self._done)
        self._done = done

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()


@contextmanager
def _failing(what: str) -> Iterator[None]:
    """Report a gateway error as one line and exit 1."""
    try:
        yield
    except GatewayError as exc:
        typer.secho(f"{what}: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1) from None


@contextmanager
def _recorded(engine: Engine) -> Iterator[list[int]]:
    """Record the local run's outcome in the database (the regulator console shows the last):
    the tree size put in the yielded list once verified, or the refusal that ended the run."""
    verified: list[int] = []
    try:
        yield verified
    except GatewayError as exc:
        record_verification(engine, Verification(datetime.now(UTC), False, None, exc.detail))
        raise
    record_verification(engine, Verification(datetime.now(UTC), True, verified[-1], "verified"))


@contextmanager
def _client(url: str, token: str | None) -> Iterator[LogClient]:
    client = LogClient.connect(url, token)
    try:
        yield client
    finally:
        client.close()


def _trusted(pinned: NoteVerifier | None, client: LogClient) -> NoteVerifier:
    if pinned is not None:
        return pinned
    verifier = parse_verifier_key(client.verifier_key())
    typer.secho(
        f"warning: no --key given; trusting the log's own key on first use: {verifier.vkey}",
        err=True,
        fg=typer.colors.YELLOW,
    )
    return verifier


def _required(verifier: NoteVerifier | None) -> NoteVerifier:
    if verifier is None:
        raise typer.BadParameter(
            "no trusted key: give --key (an export's own keys are not trusted)"
        )
    return verifier


def _local_signer(settings: Settings) -> NoteSigner:
    return NoteSigner(settings.log_origin, load_keys(settings).log)


@contextmanager
def _migrated_engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url)
    try:
        require_current(engine)
        yield engine
    finally:
        engine.dispose()


def _print_report(report: VerificationReport, state: Path) -> None:
    head = report.checkpoint
    typer.secho(f"verified {head.origin}", fg=typer.colors.GREEN)
    typer.echo(f"  leaves          {head.size}")
    typer.echo(f"  root            {head.to_body().splitlines()[2]}")
    typer.echo(f"  checkpoints     {report.checkpoints_checked} signed, consistent")
    if report.stored_hashes_checked:
        typer.echo(f"  stored hashes   {report.stored_hashes_checked} match the leaves")
    typer.echo(f"  state           {state}")
