"""``gateway keys``: rotation of the key that signs access tokens, consent grants and receipts."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from gateway.keys import RETIRED_KEEP, rotate_signing_key
from gateway.settings import Settings

app = typer.Typer(help="The gateway's signing keys", no_args_is_help=True)


@app.command("rotate-signing")
def rotate_signing() -> None:
    """Retire the token-and-grant signing key and generate a new one."""
    old, new = rotate_signing_key(Settings(), datetime.now(UTC))
    typer.echo(
        f"new signing key {new}; {old} retired, still verifying for {RETIRED_KEEP.days} days"
    )
    typer.echo("restart every gateway process so that they all sign with the new key")
