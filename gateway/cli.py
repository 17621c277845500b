"""The ``gateway`` command: serve, migrate, seed the demo, publish the OpenAPI document."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from gateway.archive.cli import archive
from gateway.audit_cli import audit
from gateway.console.cli import officers
from gateway.factors.cli import factors
from gateway.jobs_cli import jobs
from gateway.keys_cli import app as keys
from gateway.parties_cli import parties
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import make_engine
from gateway.subjects_cli import subjects
from problems import GatewayError

app = typer.Typer(help="Credit-inquiry consent gateway", no_args_is_help=True)
db = typer.Typer(help="Database schema", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(audit, name="audit")
app.add_typer(archive, name="archive")
app.add_typer(parties, name="parties")
app.add_typer(keys, name="keys")
app.add_typer(jobs, name="jobs")
app.add_typer(factors, name="factors")
app.add_typer(subjects, name="subjects")
app.add_typer(officers, name="officers")

OPENAPI_FILE = Path("openapi/openapi.json")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (SQLite or PostgreSQL, from GATEWAY_DATABASE_URL)."""
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url)
    typer.echo(f"database at revision {migrate.head_revisions(settings.resolved_database_url)}")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the code's."""
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    current = migrate.current_revisions(engine)
    head = migrate.head_revisions(settings.resolved_database_url)
    typer.echo(f"database: {current or 'none'}; code: {head}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (GATEWAY_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (GATEWAY_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (GATEWAY_WORKERS)")] = None,
) -> None:
    """Serve the gateway. Refuses to start on a database that is not migrated."""
    settings = Settings()
    try:
        migrate.require_current(make_engine(settings.resolved_database_url))
    except GatewayError as exc:
        raise _fail(exc.detail) from None
    workers = workers or settings.workers
    if warning := more_workers_than_cores(workers, available_cores()):
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    uvicorn.run(
        "gateway.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,  # raw paths can hold identifiers; spans carry route templates instead
        server_header=False,  # no "server: uvicorn": the software is nobody's business
        log_level="info",
        **proxy_options(settings),
    )


def more_workers_than_cores(workers: int, cores: int) -> str | None:
    """What to tell an operator who starts more worker processes than the host has cores: they
    serve fewer inquiries a second, not more - each waits for the database several times per
    inquiry, and every wait hands its core to another worker (README, "The inquiry benchmark").
    None when there are no more workers than cores."""
    if workers <= cores:
        return None
    return (
        f"{workers} worker processes on {cores} cores: more workers than cores serve fewer "
        f'inquiries a second, not more (README, "The inquiry benchmark"); set GATEWAY_WORKERS '
        f"to at most {cores}"
    )


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity, where the system has one."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this system
        return os.cpu_count() or 1


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings from GATEWAY_TRUSTED_PROXIES: X-Forwarded-For and -Proto are
    read only from those peers, and not at all when there is none (uvicorn's own default
    trusts any loopback peer, and FORWARDED_ALLOW_IPS from the environment)."""
    return {
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
    }


@app.command()
def demo() -> None:
    """Seed the fictional demo province and its archive (idempotent); write the credentials."""
    from gateway.demo import seed_demo, seed_demo_archive

    settings = Settings()
    try:
        migrate.require_current(make_engine(settings.resolved_database_url))
    except GatewayError as exc:
        raise _fail(exc.detail) from None
    report = seed_demo(settings) + seed_demo_archive(settings)
    typer.echo(report)


CredentialsFile = Annotated[
    Path | None, typer.Option(help="Credentials file; default <var_dir>/demo/credentials.json")
]


def _persona(name: str, credentials: Path | None) -> tuple[dict[str, Any], str]:
    """A demo persona of the credentials file, and the gateway's base URL it was seeded for."""
    from gateway.demo import read_credentials

    settings = Settings()
    path = credentials or settings.var_dir / "demo" / "credentials.json"
    entry = read_credentials(path).get(name)
    if not isinstance(entry, dict) or "private_jwk" not in entry:
        raise _fail(f"no client persona {name!r} in {path}; run `gateway demo` first")
    return entry, str(read_credentials(path).get("base_url", settings.base_url)).rstrip("/")


@app.command()
def assertion(
    persona: Annotated[
        str,
        typer.Argument(help="establishment, establishment_dpop, agency, provider or regulator"),
    ],
    credentials: CredentialsFile = None,
) -> None:
    """Print a fresh private_key_jwt client assertion for a demo persona (for curl)."""
    from gateway.demo import client_assertion

    entry, base = _persona(persona, credentials)
    typer.echo(client_assertion(entry, f"{base}/oauth/token"))


@app.command("dpop-proof")
def dpop_proof(
    method: Annotated[str, typer.Argument(help="The request's method, e.g. POST or GET")],
    url: Annotated[str, typer.Argument(help="The request's URL")],
    token: Annotated[
        str | None, typer.Option(help="The access token the proof goes with (a resource call)")
    ] = None,
    nonce: Annotated[str | None, typer.Option(help="The server's last DPoP-Nonce")] = None,
    persona: Annotated[str, typer.Option(help="Whose key signs")] = "establishment_dpop",
    credentials: CredentialsFile = None,
) -> None:
    """Print a fresh DPoP proof (RFC 9449) signed with a demo persona's key (for curl)."""
    from gateway.demo import dpop_proof as sign_proof

    entry, _ = _persona(persona, credentials)
    typer.echo(sign_proof(entry, method, url, access_token=token, nonce=nonce))


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document")] = OPENAPI_FILE,
) -> None:
    """Write the OpenAPI document the app serves to openapi/openapi.json."""
    from gateway.app import create_app

    document = create_app(Settings()).openapi()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    typer.echo(f"wrote {output}")
