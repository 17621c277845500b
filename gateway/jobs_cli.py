"""``gateway jobs run-once``: one round of the periodic jobs by hand (Art. 41, 61(2), 64, 67).

The same jobs the in-process scheduler runs (:mod:`gateway.rights.scheduler`), each under its
lease: a job another gateway process is running at the moment is skipped and said so; a job
that failed prints its problem (e.g. a deadline in a year no holiday schedule covers). Exit
status: 0 done, 2 refused or a job failed (the reason is printed).
"""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.audit_log.service import running_audit_log
from gateway.keys import load_keys
from gateway.oauth.service import AuthServer
from gateway.rights.scheduler import JOBS, JobContext, run_once
from gateway.rights.service import Deadlines
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.storage.migrate import require_current
from problems import GatewayError

jobs = typer.Typer(help="The periodic jobs: expiry, display stops, purge, deadlines")


@jobs.command("run-once")
def run_once_command(
    job: Annotated[
        list[str] | None, typer.Option(help=f"Only this job (repeatable): {', '.join(JOBS)}")
    ] = None,
) -> None:
    """Run every job (or those named) once, in order."""
    names = job or list(JOBS)
    unknown = sorted(set(names) - set(JOBS))
    if unknown:
        typer.secho(f"error: unknown job {', '.join(unknown)}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    settings = Settings()
    try:
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        keys = load_keys(settings)
        server = AuthServer.for_issuer(settings.base_url, keys.signing_rings())
        with running_audit_log(engine, settings, keys) as audit_log:
            context = JobContext(engine, audit_log, keys, server, Deadlines.of(settings), settings)
            results = run_once(context, names)
    except GatewayError as exc:
        typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    for name, done in results.items():
        if isinstance(done, GatewayError):
            typer.secho(f"{name}: error ({done.instance_article}): {done.detail}", fg="red")
        else:
            typer.echo(f"{name}: {'skipped (another process holds it)' if done is None else done}")
    if any(isinstance(done, GatewayError) for done in results.values()):
        raise typer.Exit(code=2)
