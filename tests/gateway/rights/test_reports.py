"""Report issuance (Art. 39 para. 5): a subject issues a signed report of its own file, which
verifies offline with the published keys, and whose number and code anyone checks - genuine,
superseded, withdrawn - without learning its content; the issuance is in the access log."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from audit.leaf import Channel, EventKind
from bench.passkey import StepUp
from gateway.reports import pdf
from tests.gateway.archive.factories import penalty_fields, qualification
from tests.gateway.rights.factories import Rights, pdf_fonts, pdf_text, refused
from tests.gateway.test_problems import assert_problem

ARTICLE = "Art. 39 para. 5"
NOTO_EMBEDDED = {"NotoSansCJKsc-Regular-Identity-H": True, "NotoSansCJKsc-Bold-Identity-H": True}
"""The report's fonts as pdffonts names them (without the subset tag), each embedded."""


def issue(rights: Rights, use: str = "loan", **body: Any) -> dict[str, Any]:
    proof = rights.flow.second_factor("issue_report", None)
    response = rights.client.post(
        "/v1/me/credit-reports",
        json={"use": use, "second_factor": proof, **body},
        headers=rights.world.headers("citizen"),
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def signed(rights: Rights, number: str) -> dict[str, Any]:
    return rights.get(f"/v1/me/credit-reports/{number}", "citizen")


def verification(rights: Rights, number: str, code: str) -> httpx.Response:
    response: httpx.Response = rights.client.get(
        f"/v1/reports/{number}/verification", params={"code": code}
    )
    return response


def published_keys(rights: Rights) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(rights.client.get("/oauth/jwks").json())


def verify_offline(rights: Rights, token: str) -> dict[str, Any]:
    """What a third party does: the JWKS of /oauth/jwks, EdDSA only, the report's typ."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "credit-report+jwt"
    key = published_keys(rights)[header["kid"]]
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["EdDSA"])
    return claims


def test_issued_report_verifies_offline_and_names_sources_and_bases(rights: Rights) -> None:
    rights.record()
    issued = issue(rights)
    document = signed(rights, issued["number"])
    claims = verify_offline(rights, document["jws"])
    assert claims == document["report"]
    assert claims["report_number"] == issued["number"] and claims["use"] == "loan"
    assert issued["digest"] == hashlib.sha256(document["jws"].encode()).hexdigest()
    identifier = claims["subject"]["identifier"]
    assert "*" in identifier and identifier != rights.world.citizen
    assert rights.world.citizen not in document["jws"]
    assert claims["items"], "the demo citizen's file has records"
    for item in claims["items"]:
        assert item["source"] and item["item_name"]["zh"] and item["item_name"]["en"]
    assert any(
        item["basis"] for item in claims["items"] if item["scope_category"] == "untrustworthy"
    )
    assert claims["verification"]["code"] == issued["verification_code"]


def test_a_tampered_report_fails_verification_with_the_published_keys(rights: Rights) -> None:
    document = signed(rights, issue(rights)["number"])
    header, _, signature = document["jws"].split(".")
    report = document["report"]
    report["items"] = report["items"][1:]  # an unfavourable item removed
    edited = base64.urlsafe_b64encode(json.dumps(report).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify_offline(rights, f"{header}.{edited}.{signature}")


def test_verification_confirms_the_code_and_refuses_a_wrong_one_alike(rights: Rights) -> None:
    issued = issue(rights, "bidding")
    number, code = issued["number"], issued["verification_code"]
    for given in (code, code.replace("-", "").lower()):
        answer = verification(rights, number, given)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "number": number,
            "genuine": True,
            "status": "valid",
            "issued_at": issued["issued_at"],
            "valid_until": issued["valid_until"],
            "digest": issued["digest"],
            "superseded_by": None,
        }
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    unknown = verification(rights, "R20260101-ABCDEFGH", code)
    refused(verification(rights, number, wrong), 404, ARTICLE)
    refused(unknown, 404, ARTICLE)
    assert unknown.json()["detail"] == verification(rights, number, wrong).json()["detail"]
    assert verification(rights, number, "not a code").status_code == 422


def test_a_later_report_for_the_same_use_supersedes_the_earlier(rights: Rights) -> None:
    first = issue(rights, "tenancy")
    other_use = issue(rights, "employment")
    second = issue(rights, "tenancy")
    answer = verification(rights, first["number"], first["verification_code"]).json()
    assert (answer["status"], answer["superseded_by"]) == ("superseded", second["number"])
    kept = verification(rights, other_use["number"], other_use["verification_code"]).json()
    assert kept["status"] == "valid"


def test_a_withdrawn_report_is_told_as_withdrawn_and_its_content_deleted(rights: Rights) -> None:
    issued = issue(rights, "administrative_approval")
    number, code = issued["number"], issued["verification_code"]
    size = rights.world.log_size()
    withdrawn = rights.client.post(
        f"/v1/me/credit-reports/{number}/withdrawal", headers=rights.world.headers("citizen")
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["verification_code"]) == (
        "withdrawn",
        None,
    )
    assert verification(rights, number, code).json()["status"] == "withdrawn"
    for path in (f"/v1/me/credit-reports/{number}", f"/v1/me/credit-reports/{number}/pdf"):
        refused(rights.client.get(path, headers=rights.world.headers("citizen")), 409, ARTICLE)
    event = rights.world.event(size)
    assert (event.kind, event.reason_code, event.requester) == (
        EventKind.REPORT,
        "withdrawn",
        "citizen",
    )


def test_issuance_is_a_registered_self_inquiry_in_the_access_log(rights: Rights) -> None:
    issued = issue(rights, "loan", categories=["untrustworthy"])
    event = rights.world.event(issued["leaf_index"])
    assert (event.kind, event.channel, event.purpose) == (
        EventKind.INQUIRY,
        Channel.REAL_NAME_VERIFIED_INQUIRY,
        "report:loan",
    )
    entries = rights.get("/v1/me/access-log", "citizen")["entries"]
    (entry,) = [entry for entry in entries if entry["leaf_index"] == issued["leaf_index"]]
    assert (entry["purpose"], entry["outcome"]) == ("report:loan", "allowed")


def test_a_report_of_chosen_categories_holds_only_those(rights: Rights) -> None:
    rights.record()  # an administrative penalty: untrustworthy
    rights.record(build=qualification)  # a qualification: basic information
    full = signed(rights, issue(rights, "loan")["number"])["report"]
    assert {"untrustworthy", "basic"} <= {item["scope_category"] for item in full["items"]}
    issued = issue(rights, "loan", categories=["untrustworthy"])
    report = signed(rights, issued["number"])["report"]
    assert report["categories"] == ["untrustworthy"] == issued["categories"]
    assert {item["scope_category"] for item in report["items"]} == {"untrustworthy"}


def test_only_the_subject_reads_its_reports(rights: Rights) -> None:
    number = issue(rights)["number"]
    for persona in ("establishment", "provider", "agency", "regulator"):
        path = f"/v1/me/credit-reports/{number}"
        assert_problem(rights.client.get(path, headers=rights.world.headers(persona)), 403)
    unknown = rights.client.get(
        "/v1/me/credit-reports/R20260101-ABCDEFGH", headers=rights.world.headers("citizen")
    )
    refused(unknown, 404, ARTICLE)


def test_the_pdf_prints_number_code_digest_items_and_sources(rights: Rights) -> None:
    rights.record()
    issued = issue(rights)
    number = issued["number"]
    response = rights.client.get(
        f"/v1/me/credit-reports/{number}/pdf", headers=rights.world.headers("citizen")
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content, number)
    report = signed(rights, number)["report"]
    assert number in text and issued["verification_code"] in text
    assert issued["digest"][:8] in text and report["subject"]["identifier"] in text
    assert report["items"], "the demo citizen's file has records"
    for item in report["items"]:
        assert item["item_name"]["zh"] in text and item["source"] in text
        if item["basis"]:
            assert item["basis"]["number"] in text
    assert rights.world.citizen not in text
    assert pdf_fonts(response.content, number) == NOTO_EMBEDDED


def test_a_rare_hanzi_is_printed_in_the_report_font(rights: Rights) -> None:
    """A rare character (堃, and 𠮷 beyond the BMP) is set in Noto Sans CJK SC like the rest,
    its glyph embedded with the others: no character is lost, no other font stands in."""
    authority = "示范市堃𠮷市场监督管理局"
    rights.record(fields=penalty_fields(penalty_authority=authority))
    number = issue(rights)["number"]
    response = rights.client.get(
        f"/v1/me/credit-reports/{number}/pdf", headers=rights.world.headers("citizen")
    )
    text = "".join(pdf_text(response.content, number).split())  # the line may wrap anywhere
    assert f"penalty_authority:{authority}" in text
    assert pdf_fonts(response.content, number) == NOTO_EMBEDDED


def test_without_its_fonts_only_the_pdf_is_unavailable(
    rights: Rights, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server without Noto Sans CJK SC answers the PDF with a 503 naming what is missing;
    the signed report is still served."""
    number = issue(rights)["number"]
    monkeypatch.setattr(pdf, "FONTS", tmp_path)
    pdf._compiler.cache_clear()
    try:
        response = rights.client.get(
            f"/v1/me/credit-reports/{number}/pdf", headers=rights.world.headers("citizen")
        )
    finally:
        pdf._compiler.cache_clear()
    refused(response, 503, ARTICLE)
    detail = response.json()["detail"]
    assert "Noto Sans CJK SC Regular" in detail and "Noto Sans CJK SC Bold" in detail
    assert str(tmp_path) in detail
    assert signed(rights, number)["report"]["report_number"] == number


def test_issuing_needs_a_fresh_second_factor_of_its_own(rights: Rights) -> None:
    """Art. 61(2): a password alone never hands anyone a signed copy of the file."""
    headers = rights.world.headers("citizen")
    other = rights.flow.second_factor("approve", rights.flow.pending())
    size = rights.world.log_size()
    for body in ({"use": "loan"}, {"use": "loan", "second_factor": other}):
        refused(
            rights.client.post("/v1/me/credit-reports", json=body, headers=headers),
            403,
            "Art. 61(2)",
        )
    assert rights.world.log_size() == size
    proof = rights.flow.second_factor("issue_report", None)
    body = {"use": "loan", "second_factor": proof}
    assert (
        rights.client.post("/v1/me/credit-reports", json=body, headers=headers).status_code == 201
    )
    replayed = rights.client.post("/v1/me/credit-reports", json=body, headers=headers)
    refused(replayed, 403, "Art. 61(2)")


def test_a_legal_representative_issues_the_company_report(rights: Rights) -> None:
    """Art. 39 para. 5 for a legal person: its representative, acting for it, issues its
    report; the report is the company's (credit code), the issuance in the company's log."""
    company = rights.flow.credentials["legal_person"]
    person = rights.world.headers("citizen")
    acting = rights.client.post(
        "/v1/me/acting-token", json={"entity_id": company["entity_id"]}, headers=person
    )
    assert acting.status_code == 200, acting.text
    headers = {"Authorization": f"Bearer {acting.json()['access_token']}"}
    step_up = StepUp(rights.client, headers, rights.flow.step_up.passkey)
    body = {"use": "bidding", "second_factor": step_up.proof("issue_report", None)}
    issued = rights.client.post("/v1/me/credit-reports", json=body, headers=headers)
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    document = rights.client.get(f"/v1/me/credit-reports/{number}", headers=headers).json()
    claims = verify_offline(rights, document["jws"])
    assert claims["subject"] == {"kind": "legal", "identifier": company["credit_code"]}
    mine = rights.client.get("/v1/me/credit-reports", headers=person).json()["reports"]
    assert number not in {report["number"] for report in mine}
    log = rights.client.get("/v1/me/access-log", headers=headers).json()["entries"]
    (entry,) = [e for e in log if e["leaf_index"] == issued.json()["leaf_index"]]
    assert entry["purpose"] == "report:bidding"
    pdf = rights.client.get(f"/v1/me/credit-reports/{number}/pdf", headers=headers)
    assert company["credit_code"] in pdf_text(pdf.content, number)
