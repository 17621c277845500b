"""``gateway officers add USERNAME``: enrol a regulator officer for the console (``/oversight``).

The password is prompted for (twice, not echoed), or generated with ``--generate-password``
and printed once. The officer's TOTP secret is new and printed once, with its
``otpauth://`` provisioning URI for an authenticator app (RFC 6238); the console's sign-in asks
for a code of it. Exit status: 0 done, 2 refused (the reason is printed).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer

from gateway.console.officers import add_officer
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from gateway.storage.migrate import require_current
from problems import GatewayError

officers = typer.Typer(help="Regulator officers: the console's accounts", no_args_is_help=True)


@officers.command()
def add(
    username: Annotated[str, typer.Argument(help="The officer's username")],
    generate_password: Annotated[
        bool, typer.Option(help="Generate the password and print it once instead of asking")
    ] = False,
) -> None:
    """Enrol a regulator officer; prints the TOTP secret and its provisioning URI once."""
    if generate_password:
        password = secrets.token_urlsafe(16)
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(Settings().resolved_database_url)
    try:
        require_current(engine)
        with unit_of_work(engine) as session:
            enrolled = add_officer(session, username, password, datetime.now(UTC))
    except (GatewayError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, GatewayError) else str(exc)
        typer.secho(f"error: {detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    finally:
        engine.dispose()
    typer.echo(f"officer {username} enrolled ({enrolled.officer.officer_id})")
    if generate_password:
        typer.echo(f"password     {password}")
    typer.echo(f"TOTP secret  {enrolled.totp_secret}")
    typer.echo(f"TOTP URI     {enrolled.provisioning_uri}")
