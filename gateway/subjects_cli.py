"""``gateway subjects``: the operator enrols credit subjects (Art. 34).

* ``enrol`` - one natural person (``--id-number``, or without one ``--document-type`` and
  ``--document-number``; ``--document TYPE:NUMBER`` for the other documents of a person with an
  ID number; ``--username`` and a prompted ``--password`` only for the local fallback sign-in);
* ``enrol-entity`` - a legal person or unincorporated organization with its legal
  representative, who must be enrolled;
* ``import FILE`` - many natural persons from a CSV (UTF-8, header row) or XLSX file (first
  sheet, header row) with the columns ``full_name``, ``id_number``, ``document_type``,
  ``document_number``, ``documents`` (``TYPE:NUMBER`` separated by ``;``) and ``username``
  (all but ``full_name`` optional). Every row is validated before its chunk is stored (1,000
  rows a transaction): a bad row stores nothing, the others are stored whole; running the same
  file again enrols nothing new (``unchanged``). A per-row report (``row,outcome,account_id,
  problem``; the problem never repeats an identifier) is written to ``--report`` (default
  ``FILE.report.csv``) and summarized. Imported accounts have no local password: they sign in
  through the provincial identity provider (OpenID Connect).

Exit status: 0 done (an import with refused rows too: see its report), 2 refused.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from gateway.keys import load_keys
from gateway.parties.enrolment import (
    EnrolmentInvalid,
    EnrolmentOutcome,
    EnrolmentResult,
    EntityEnrolment,
    PersonEnrolment,
    enrol_entity,
    enrol_person,
    enrol_persons,
)
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from gateway.storage.migrate import require_current
from problems import GatewayError

subjects = typer.Typer(help="Enrol credit subjects: persons and entities", no_args_is_help=True)
COLUMNS = ("full_name", "id_number", "document_type", "document_number", "documents", "username")


def _refused(exc: GatewayError) -> typer.Exit:
    typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def documents_of(text: str) -> tuple[tuple[str, str], ...]:
    """``TYPE:NUMBER;TYPE:NUMBER`` as pairs; raises :class:`EnrolmentInvalid`."""
    pairs = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        kind, colon, number = entry.partition(":")
        if not colon:
            raise EnrolmentInvalid("a document is TYPE:NUMBER")
        pairs.append((kind.strip(), number.strip()))
    return tuple(pairs)


@subjects.command("enrol")
def enrol(
    full_name: Annotated[str, typer.Option(help="The person's full name")],
    id_number: Annotated[str | None, typer.Option(help="Citizen ID number (GB 11643)")] = None,
    document_type: Annotated[
        str | None, typer.Option(help="Without an ID number: passport, hk_macao_permit, ...")
    ] = None,
    document_number: Annotated[str | None, typer.Option(help="That document's number")] = None,
    document: Annotated[
        list[str] | None, typer.Option(help="Another document of the person: TYPE:NUMBER")
    ] = None,
    username: Annotated[str | None, typer.Option(help="For the local password fallback")] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a local password (the fallback)")
    ] = False,
) -> None:
    """Enrol one natural person (idempotent: the same again is unchanged)."""
    secret = (
        typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    )
    settings = Settings()
    try:
        enrolment = PersonEnrolment(
            full_name=full_name,
            id_number=id_number,
            document_type=document_type,
            document_number=document_number,
            documents=documents_of(";".join(document or [])),
            username=username,
            password=secret,
        )
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        with unit_of_work(engine) as session:
            result = enrol_person(session, load_keys(settings), enrolment, datetime.now(UTC))
    except GatewayError as exc:
        raise _refused(exc) from None
    typer.echo(f"{result.outcome} {result.account_id}")


@subjects.command("enrol-entity")
def enrol_entity_command(
    credit_code: Annotated[str, typer.Option(help="Unified social credit code (GB 32100)")],
    name: Annotated[str, typer.Option(help="The registered name")],
    representative: Annotated[
        str, typer.Option(help="The legal representative's ID number (or TYPE:NUMBER)")
    ],
    kind: Annotated[
        str, typer.Option(help="legal_person or unincorporated_organization")
    ] = "legal_person",
) -> None:
    """Enrol a legal person or unincorporated organization with its legal representative."""
    settings = Settings()
    try:
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        with unit_of_work(engine) as session:
            result = enrol_entity(
                session,
                EntityEnrolment(credit_code, name, kind, representative),
                datetime.now(UTC),
            )
    except GatewayError as exc:
        raise _refused(exc) from None
    typer.echo(f"{result.outcome} {result.account_id}")


@subjects.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file of natural persons")],
    report: Annotated[Path | None, typer.Option(help="Where the per-row report goes")] = None,
) -> None:
    """Enrol the natural persons of a CSV or XLSX file, with a per-row report."""
    settings = Settings()
    target = report or file.with_name(file.name + ".report.csv")
    try:
        rows = list(read_rows(file))
        engine = make_engine(settings.resolved_database_url)
        require_current(engine)
        keys = load_keys(settings)
        with Progress(transient=True) as progress:
            task = progress.add_task("enrolling", total=len(rows))
            results = enrol_persons(
                engine,
                keys,
                (person_of(row) for row in rows),
                datetime.now(UTC),
                lambda done: progress.advance(task, done),
            )
    except GatewayError as exc:
        raise _refused(exc) from None
    write_report(target, results)
    counts = {outcome: 0 for outcome in EnrolmentOutcome}
    for result in results:
        counts[result.outcome] += 1
    summary = ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
    typer.echo(f"{len(results)} rows: {summary}; report: {target}")


def read_rows(file: Path) -> Iterator[dict[str, str]]:
    """The rows of a CSV or XLSX file as dictionaries by column name."""
    suffix = file.suffix.lower()
    if suffix == ".csv":
        try:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                yield from (
                    {key: (value or "") for key, value in row.items() if key}
                    for row in csv.DictReader(handle)
                )
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise EnrolmentInvalid(f"cannot read {file.name} as UTF-8 CSV") from exc
        return
    if suffix == ".xlsx":
        yield from _xlsx_rows(file)
        return
    raise EnrolmentInvalid("the file is .csv or .xlsx")


def _xlsx_rows(file: Path) -> Iterator[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise EnrolmentInvalid(f"cannot read {file.name} as XLSX") from exc
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [str(cell or "").strip() for cell in next(lines, ())]
        for line in lines:
            yield {
                name: "" if cell is None else str(cell).strip()
                for name, cell in zip(header, line, strict=False)
                if name
            }
    finally:
        workbook.close()


def person_of(row: dict[str, str]) -> PersonEnrolment | GatewayError:
    """One row as an enrolment, or the problem that refuses it."""
    unknown = set(row) - set(COLUMNS)
    if unknown:
        return EnrolmentInvalid(f"unknown columns: {', '.join(sorted(unknown))}")
    try:
        documents = documents_of(row.get("documents", ""))
    except GatewayError as refusal:
        return refusal
    return PersonEnrolment(
        full_name=row.get("full_name", ""),
        id_number=row.get("id_number") or None,
        document_type=row.get("document_type") or None,
        document_number=row.get("document_number") or None,
        documents=documents,
        username=row.get("username") or None,
    )


def write_report(target: Path, results: list[EnrolmentResult]) -> None:
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "outcome", "account_id", "problem"])
        for number, result in enumerate(results, start=2):
            problem = "" if result.problem is None else result.problem.detail
            writer.writerow([number, result.outcome, result.account_id or "", problem])
