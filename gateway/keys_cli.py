"""``gateway keys``: rotation of the key that signs access tokens, consent grants and receipts,
and withdrawal of a compromised one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from gateway.keys import VERIFICATION_WINDOWS, rotate_signing_key
from gateway.oauth.service import withdraw_signing_key
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.storage.migrate import require_current
from problems import GatewayError

app = typer.Typer(help="The gateway's signing keys", no_args_is_help=True)


@app.command("rotate-signing")
def rotate_signing() -> None:
    """Retire the token-and-grant signing key and generate a new one."""
    old, new = rotate_signing_key(Settings(), datetime.now(UTC))
    windows = ", ".join(f"{kind.value} {keep}" for kind, keep in VERIFICATION_WINDOWS.items())
    typer.echo(f"new signing key {new}; {old} retired, still verifying: {windows}")
    typer.echo("restart every gateway process so that they all sign with the new key")


@app.command("withdraw")
def withdraw(kid: Annotated[str, typer.Argument(help="The key id (JWK thumbprint)")]) -> None:
    """Withdraw a compromised signing key: nothing it signed verifies from now on."""
    settings = Settings()
    try:
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        replacement = withdraw_signing_key(settings, engine, kid, datetime.now(UTC))
    except GatewayError as exc:
        typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    typer.echo(f"withdrew {kid}: every process on this database refuses what it signed")
    if replacement is not None:
        typer.echo(f"it was the current key: new signing key {replacement}")
        typer.echo("restart every gateway process so that they all sign with the new key")
