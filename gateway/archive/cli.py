"""``gateway archive purge``: the retention purge of the credit archive (Art. 41 para. 2).

Empties the content of every record whose retention period has ended, a batch per
transaction, each change appended to the audit log before it is written; subjects no record
refers to any more are removed. The scheduler calls
:func:`gateway.archive.service.purge_past_retention` the same way. Exit status: 0 done,
2 refused (the reason is printed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import Engine

from gateway.archive.service import SWEEP_LIMIT, ArchiveDesk, purge_past_retention
from gateway.audit_log.service import AuditLog, running_audit_log
from gateway.keys import GatewayKeys, load_keys
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from gateway.storage.migrate import require_current
from problems import GatewayError

archive = typer.Typer(help="The credit archive: retention purge", no_args_is_help=True)


@archive.command()
def purge(
    batch: Annotated[
        int, typer.Option(min=1, max=10_000, help="Records purged per transaction")
    ] = SWEEP_LIMIT,
) -> None:
    """Purge the content of records past their retention period; their audit leaves remain."""
    settings = Settings()
    try:
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        keys = load_keys(settings)
        with running_audit_log(engine, settings, keys) as audit_log:
            total = purge_all(engine, audit_log, keys, batch)
    except GatewayError as exc:
        typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    typer.echo(f"purged {total} records past their retention period")


def purge_all(engine: Engine, audit_log: AuditLog, keys: GatewayKeys, batch: int) -> int:
    """Purge batch after batch, each in its own unit of work, until none is left."""
    total = 0
    while True:
        with unit_of_work(engine) as session:
            desk = ArchiveDesk(session, audit_log, keys, datetime.now(UTC))
            purged = purge_past_retention(desk, batch)
        total += purged
        if purged < batch:
            return total
