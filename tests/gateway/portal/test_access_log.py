"""Who looked at my data and my credit report in the portal: the API's services, each access
log entry marked by checking its proof - and a proof that does not check is never verified."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app
from gateway.inquiries.access_log import AccessLog, access_log
from gateway.portal.access_log import SEEN_COOKIE, Mark, marked_entries, opened_head
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import Flow
from tests.gateway.factories import citizen_caller
from tests.gateway.portal.factories import assert_accessible_page, citizen_id, signed_in

runner = CliRunner()


def _log(flow: Flow) -> AccessLog:
    state = flow.client.app.state  # type: ignore[attr-defined]
    with unit_of_work(flow.engine) as session:
        return access_log(
            session,
            state.audit_log,
            state.keys,
            citizen_caller(citizen_id(flow)),
            datetime.now(UTC),
            before=1 << 62,
            limit=50,
        )


def _marks(flow: Flow, log: AccessLog) -> list[Mark]:
    state = flow.client.app.state  # type: ignore[attr-defined]
    checkpoint = opened_head(log, state.audit_log, flow.settings.log_origin)
    return [m.mark for m in marked_entries(log, checkpoint)]


def test_entries_covered_by_the_checkpoint_verify_and_newer_ones_are_pending(flow: Flow) -> None:
    flow.active()
    flow.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    flow.pending()
    marks = _marks(flow, _log(flow))
    assert marks[0] is Mark.PENDING
    assert set(marks[1:]) == {Mark.VERIFIED}


def test_a_proof_that_does_not_lead_to_the_checkpoint_is_marked_failed(flow: Flow) -> None:
    flow.active()
    flow.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    log = _log(flow)
    first = log.entries[0]
    assert first.proof is not None
    forged = replace(first, leaf_hash=bytes(32))
    wrong_index = replace(first, leaf_index=first.leaf_index + 1)
    tampered = replace(log, entries=[forged, wrong_index, *log.entries[1:]])
    assert _marks(flow, tampered)[:2] == [Mark.FAILED, Mark.FAILED]


def test_a_checkpoint_the_log_did_not_sign_verifies_nothing(flow: Flow) -> None:
    flow.active()
    flow.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    log = _log(flow)
    assert log.head is not None
    body = log.head.note.split("\n\n")[0]
    unsigned = replace(log, head=replace(log.head, note=f"{body}\n\n"))
    assert set(_marks(flow, unsigned)) == {Mark.FAILED}


def test_the_access_log_page_shows_each_entry_verified(flow: Flow) -> None:
    flow.active()
    flow.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    page = signed_in(flow).get("/portal/access-log")
    assert page.status_code == 200
    assert "✓ 已验证" in page.text and "验证失败" not in page.text
    assert_accessible_page(page.text)


def test_reading_my_credit_report_is_itself_in_my_access_log(flow: Flow) -> None:
    client = signed_in(flow)
    report = client.get("/portal/credit-report")
    assert report.status_code == 200 and "我的信用报告" in report.text
    assert_accessible_page(report.text)
    assert "本人实名查询" in client.get("/portal/access-log").text


def test_the_page_remembers_the_checkpoint_and_proves_the_next_one_extends_it(
    flow: Flow, tmp_path: Path
) -> None:
    audit_log = flow.client.app.state.audit_log  # type: ignore[attr-defined]
    flow.active()
    audit_log.publish_now()
    client = signed_in(flow)
    first = client.get("/portal/access-log")
    assert "上次访问" not in first.text  # nothing seen before
    seen = client.cookies.get(SEEN_COOKIE)
    assert seen is not None and seen.startswith(f"{audit_log.signed_head()[1].size}.")

    flow.pending()
    audit_log.publish_now()
    second = client.get("/portal/access-log")
    assert "✓ 今天的检查点与您上次访问时看到的检查点" in second.text
    assert_accessible_page(second.text)

    size = seen.split(".")[0]
    client.cookies.set(SEEN_COOKIE, f"{size}.{'ab' * 32}", path="/portal")
    forged = client.get("/portal/access-log")
    assert "✗ 今天的检查点与您上次访问时看到的检查点" in forged.text

    client.cookies.set(SEEN_COOKIE, seen, path="/portal")
    download = client.get("/portal/access-log/bundle")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    (tmp_path / "bundle.json").write_text(download.text)
    verified = runner.invoke(
        app,
        [
            "audit",
            "verify-bundle",
            str(tmp_path / "bundle.json"),
            "--key",
            audit_log.verifier_key(),
        ],
    )
    assert verified.exit_code == 0, verified.output
    assert f"consistent with the checkpoint of size {size} seen before" in verified.stdout
