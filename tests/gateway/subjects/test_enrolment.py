"""Enrolment by the operator (Art. 34): ``gateway subjects enrol``, ``enrol-entity`` and
``import`` (CSV and XLSX: a per-row report, nothing half-stored, idempotent re-runs), and the
operator API (``operator`` role only, problem+json on bad input)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import col, select
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.parties.models import Citizen, PersonDocument
from gateway.storage.db import unit_of_work
from tests.gateway.subjects.factories import Subjects, new_credit_code, new_id_number
from tests.gateway.subjects.test_oidc import cli_env


def run(world: Subjects, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["subjects", *args], env=cli_env(world), input=stdin)
    return result.exit_code, result.output


def enrolled(world: Subjects, numbers: list[str]) -> set[str]:
    with unit_of_work(world.engine) as session:
        found = session.exec(select(Citizen.id_number).where(col(Citizen.id_number).in_(numbers)))
        return {number for number in found if number}


def test_import_reports_each_row_stores_whole_rows_and_reruns_unchanged(
    world: Subjects, tmp_path: Path
) -> None:
    good, other = new_id_number(), new_id_number()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    file = tmp_path / "people.csv"
    rows = [
        ["full_name", "id_number", "document_type", "document_number", "documents"],
        ["甲", good, "", "", "passport:E77001122"],
        ["乙", bad_check, "", "", ""],
        ["丙", other, "", "", "passport:bad number!"],
        ["丁", "", "passport", "E77001122", ""],
        ["甲", good, "", "", "passport:E77001122"],
    ]
    with file.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    code, output = run(world, "import", str(file))
    assert code == 0, output
    assert "5 rows: 1 enrolled, 1 unchanged, 3 refused" in output
    with (tmp_path / "people.csv.report.csv").open(encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    assert [entry["outcome"] for entry in report] == [
        "enrolled",
        "refused",
        "refused",
        "refused",
        "unchanged",
    ]
    assert "check character" in report[1]["problem"]
    assert bad_check not in (tmp_path / "people.csv.report.csv").read_text()
    assert enrolled(world, [good, bad_check, other]) == {good}
    with unit_of_work(world.engine) as session:
        documents = session.exec(
            select(PersonDocument).where(PersonDocument.number == "E77001122")
        ).all()
    assert len(documents) == 1

    code, output = run(world, "import", str(file), "--report", str(tmp_path / "again.csv"))
    assert "5 rows: 0 enrolled, 2 unchanged, 3 refused" in output


def test_import_reads_xlsx(world: Subjects, tmp_path: Path) -> None:
    numbers = [new_id_number() for _ in range(3)]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["full_name", "id_number"])
    for index, number in enumerate(numbers):
        sheet.append([f"表格{index}", number])
    file = tmp_path / "people.xlsx"
    book.save(file)
    code, output = run(world, "import", str(file))
    assert code == 0, output
    assert "3 enrolled" in output
    assert enrolled(world, numbers) == set(numbers)


def test_import_refuses_another_kind_of_file(world: Subjects, tmp_path: Path) -> None:
    file = tmp_path / "people.txt"
    file.write_text("full_name,id_number\n")
    code, output = run(world, "import", str(file))
    assert code == 2
    assert ".csv or .xlsx" in output


def test_enrol_one_with_a_local_password_then_an_entity(world: Subjects) -> None:
    number = new_id_number()
    args = ["enrol", "--full-name", "周杰", "--id-number", number, "--username", "zhou.jie"]
    code, output = run(world, *args, "--password", stdin="pass-word-42\npass-word-42\n")
    assert code == 0, output
    assert "enrolled" in output
    code, output = run(world, *args)
    assert (code, output.split()[0]) == (0, "unchanged")
    token = world.client.post(
        "/v1/me/token", data={"username": "zhou.jie", "password": "pass-word-42"}
    )
    assert token.status_code == 200
    credit_code = new_credit_code()
    entity = ["enrol-entity", "--credit-code", credit_code, "--name", "周氏商行"]
    code, output = run(world, *entity, "--representative", number)
    assert (code, output.split()[0]) == (0, "enrolled")
    code, output = run(world, *entity, "--representative", number)
    assert (code, output.split()[0]) == (0, "unchanged")
    code, output = run(world, *entity, "--representative", new_id_number())
    assert code == 2
    assert "not enrolled" in output


def test_the_operator_api_answers_per_person(world: Subjects) -> None:
    number = new_id_number()
    results = world.enrol(
        {"full_name": "钱七", "id_number": number},
        {"full_name": "钱七", "id_number": number},
        {"full_name": "孙八", "id_number": "110105194912310021"},
    )
    assert [result["outcome"] for result in results] == ["enrolled", "unchanged", "refused"]
    assert results[0]["account_id"] == results[1]["account_id"]
    assert results[2]["problem"]["article"] == "Art. 34"
    (renamed,) = world.enrol({"full_name": "钱八", "id_number": number})
    assert (renamed["outcome"], renamed["problem"]["status"]) == ("refused", 409)


def test_only_the_operator_enrols(world: Subjects) -> None:
    body = {"persons": [{"full_name": "李四", "id_number": new_id_number()}]}
    for persona in ("regulator", "establishment", "citizen"):
        response = world.client.post(
            "/v1/subjects/persons", json=body, headers=world.headers(persona)
        )
        assert response.status_code == 403, persona
        assert response.headers["content-type"] == "application/problem+json"
    anonymous = world.client.post("/v1/subjects/persons", json=body)
    assert anonymous.status_code == 401


def test_bad_input_is_problem_json(world: Subjects) -> None:
    operator = world.headers("operator")
    for path, body in [
        ("/v1/subjects/persons", {"persons": []}),
        ("/v1/subjects/persons", {"persons": [{"id_number": new_id_number()}]}),
        ("/v1/subjects/persons", {"persons": [{"full_name": "x", "role": "admin"}]}),
        (
            "/v1/subjects/entities",
            {"credit_code": "91110000600037341X", "name": "x", "representative": new_id_number()},
        ),
    ]:
        response = world.client.post(path, json=body, headers=operator)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    unknown = world.client.post(
        "/v1/subjects/entities",
        json={"credit_code": new_credit_code(), "name": "x", "representative": new_id_number()},
        headers=operator,
    )
    assert unknown.status_code == 404
    assert unknown.json()["article"] == "Art. 34"
