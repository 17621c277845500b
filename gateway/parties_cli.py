"""``gateway parties``: the registry of OAuth clients - register, disable, rotate keys, list.

Keys are read from a JSON file holding one public JWK or a JWK Set; private keys are refused.
Each change is made by :mod:`gateway.registry.service` as the operator, in the transaction of
its ``registry_change`` audit leaf. Exit status: 0 done, 2 refused (the reason is printed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from consent.clients import Role
from gateway.audit_log.service import running_audit_log
from gateway.keys import load_keys
from gateway.parties.models import Party
from gateway.parties.service import (
    InvalidRegistration,
    Registration,
    jwk_entries,
    key_ids,
    list_parties,
)
from gateway.registry.service import (
    OPERATOR,
    Registrar,
    disable_party,
    register_party,
    rotate_party_keys,
)
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from gateway.storage.migrate import require_current
from problems import GatewayError

parties = typer.Typer(
    help="The party registry: register, disable, rotate keys", no_args_is_help=True
)

ClientId = Annotated[str, typer.Argument(help="The party's OAuth client id")]
JwkFile = Annotated[Path, typer.Option(help="JSON file: a public JWK or a JWK Set")]
CLIENT_ROLES = [role.value for role in Role if role is not Role.CITIZEN]


@contextmanager
def _registry() -> Iterator[Session]:
    """One unit of work on the migrated database; a refusal exits with status 2."""
    try:
        engine = make_engine(Settings().resolved_database_url)
        require_current(engine)
        with unit_of_work(engine) as session:
            yield session
    except GatewayError as exc:
        typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None


@contextmanager
def _registrar() -> Iterator[Registrar]:
    """:func:`_registry` with the audit log running: a change is logged as the operator's."""
    settings = Settings()
    with _registry() as session:
        keys = load_keys(settings)
        engine = session.get_bind()
        assert isinstance(engine, Engine)  # the unit of work's session is bound to the engine
        with running_audit_log(engine, settings, keys) as audit_log:
            yield Registrar(session, audit_log, keys, datetime.now(UTC))


def _keys(path: Path) -> list[Mapping[str, object]]:
    try:
        return jwk_entries(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise InvalidRegistration(f"cannot read a JWK from {path.name}") from exc


def _describe(party: Party) -> str:
    kids = ",".join(key_ids(party))
    status = "disabled" if party.disabled else "enabled"
    dpop = " dpop-required" if party.dpop_bound_access_tokens else ""
    return f"{party.role:<13} {party.client_id:<32} {status:<8} keys={kids}{dpop} {party.name}"


@parties.command("register")
def register(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(CLIENT_ROLES)}")],
    name: Annotated[str, typer.Option(help="The party's registered name")],
    client_id: Annotated[str, typer.Option(help="OAuth client id, a-z 0-9 . _ -")],
    jwk_file: JwkFile,
    credit_code: Annotated[str | None, typer.Option(help="Unified social credit code")] = None,
    sector: Annotated[str | None, typer.Option(help="Sector (agencies: catalog sector)")] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Where notifications go")] = None,
    address: Annotated[str | None, typer.Option(help="Postal address, for receipts")] = None,
    email: Annotated[str | None, typer.Option(help="Contact e-mail, for receipts")] = None,
    phone: Annotated[str | None, typer.Option(help="Contact phone, for receipts")] = None,
    dpop_required: Annotated[
        bool, typer.Option(help="Its access tokens must be DPoP-bound (RFC 9449)")
    ] = False,
) -> None:
    """Register an establishment, agency, providing unit or regulator with its public keys."""
    with _registrar() as registrar:
        if role not in CLIENT_ROLES:
            raise InvalidRegistration(f"role is one of {', '.join(CLIENT_ROLES)}")
        registration = Registration(
            role=Role(role),
            name=name,
            client_id=client_id,
            jwks=_keys(jwk_file),
            credit_code=credit_code,
            sector=sector,
            webhook_url=webhook_url,
            postal_address=address,
            contact_email=email,
            contact_phone=phone,
            dpop_bound_access_tokens=dpop_required,
        )
        party = register_party(registrar, OPERATOR, registration).row
        typer.echo(f"registered {_describe(party)}")


@parties.command("disable")
def disable(client_id: ClientId) -> None:
    """Disable a party: its assertions are refused from now on, it gets no webhooks."""
    with _registrar() as registrar:
        typer.echo(f"disabled {_describe(disable_party(registrar, OPERATOR, client_id).row)}")


@parties.command("rotate-key")
def rotate_key(
    client_id: ClientId,
    jwk_file: JwkFile,
    retire_old: Annotated[bool, typer.Option(help="Remove every other key")] = False,
) -> None:
    """Add a party's new public key; its old keys stay until --retire-old."""
    with _registrar() as registrar:
        keys = _keys(jwk_file)
        party = rotate_party_keys(registrar, OPERATOR, client_id, keys, retire_old=retire_old).row
        typer.echo(f"rotated {_describe(party)}")


@parties.command("list")
def list_command() -> None:
    """List every registered party with its status and key ids."""
    with _registry() as session:
        for party in list_parties(session):
            typer.echo(_describe(party))
