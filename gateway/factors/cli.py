"""``gateway factors reset USERNAME``: the operator's recovery of a citizen's second factors
(Art. 61(2)). A citizen who lost the device cannot decide on consents any more; the operator,
after checking the citizen's identity out of band, removes every factor of the account, and the
citizen enrols anew after signing in. The reset is an audit leaf (``factor_change``,
``reset``) written before the factors go, and shows in the citizen's access log. Exit status:
0 done, 2 refused (the reason is printed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from gateway.audit_log.service import running_audit_log
from gateway.factors.service import reset_factors
from gateway.keys import load_keys
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from gateway.storage.migrate import require_current
from problems import GatewayError

factors = typer.Typer(
    help="Citizens' second factors: the operator's recovery", no_args_is_help=True
)


@factors.command()
def reset(
    username: Annotated[str, typer.Argument(help="The citizen account's username")],
) -> None:
    """Remove every second factor of a citizen who lost the device (logged)."""
    settings = Settings()
    try:
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        keys = load_keys(settings)
        with (
            running_audit_log(engine, settings, keys) as audit_log,
            unit_of_work(engine) as session,
        ):
            removed = reset_factors(session, audit_log, keys, username, datetime.now(UTC))
    except GatewayError as exc:
        typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    typer.echo(f"removed {removed} second factors of {username}; the reset is in the audit log")
