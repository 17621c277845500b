"""Art. 37 para. 2: a credit subject attaches statements, self-declarations and pledges to a
record of their own file; every channel that serves the record serves them with it, labelled as
the subject's own; every one is registered in the audit log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from audit.leaf import EventKind
from tests.gateway.archive.factories import new_id_number
from tests.gateway.rights.factories import Rights, refused
from tests.gateway.rights.test_objections import PERSONAS

PLEDGE = "本人承诺于三个月内完成整改，联系电话13812345678"


def attach(rights: Rights, persona: str = "citizen", **body: Any) -> httpx.Response:
    response: httpx.Response = rights.client.post(
        "/v1/me/statements", json=body, headers=rights.world.headers(persona)
    )
    return response


def served(rights: Rights, channel: str, record_id: str) -> dict[str, Any]:
    world = rights.world
    request = world.sharing(categories=["untrustworthy"]) if channel == "sharing" else None
    response = world.send(request or world.request(channel), PERSONAS[channel])
    assert response.status_code == 200, response.text
    (item,) = [item for item in response.json()["items"] if item["record_id"] == record_id]
    found: dict[str, Any] = item
    return found


def test_art_37_a_statement_is_served_with_its_record_in_every_channel(rights: Rights) -> None:
    record_id = rights.record()
    response = attach(rights, record_id=record_id, kind="pledge", text=PLEDGE)
    assert response.status_code == 201, response.text
    statement = response.json()
    assert (statement["kind"], statement["by"], statement["text"]) == (
        "pledge",
        "credit_subject",
        PLEDGE,
    )
    mine = rights.get("/v1/me/statements", "citizen")["statements"]
    assert statement["statement_id"] in {entry["statement_id"] for entry in mine}
    for channel in ("self", "public", "sharing", "authority", "authorized"):
        (shown,) = served(rights, channel, record_id)["subject_statements"]
        assert (shown["by"], shown["kind"]) == ("credit_subject", "pledge"), channel
        if channel == "self":
            assert shown["text"] == PLEDGE
        else:
            assert "13812345678" not in shown["text"], channel  # masked like free text


def test_art_37_every_statement_is_registered(rights: Rights) -> None:
    record_id = rights.record()
    before = rights.world.log_size()
    response = attach(rights, record_id=record_id, kind="statement", text="该处罚已履行完毕")
    assert response.status_code == 201, response.text
    assert rights.world.log_size() == before + 1
    event, openings = rights.leaf(before)
    assert (event.kind, event.requester, event.reason_code) == (
        EventKind.RECORD_CHANGE,
        "citizen",
        "subject_statement",
    )
    assert openings is not None and openings.subject_key == rights.citizen_key()


@pytest.mark.parametrize(
    ("body", "status", "article"),
    [
        ({"kind": "statement", "text": "本人患有糖尿病，请求从轻"}, 403, "Art. 62 para. 1"),
        ({"kind": "statement", "text": "   "}, 422, "Art. 37 para. 2"),
    ],
)
def test_art_37_a_statement_is_checked_like_collected_information(
    rights: Rights, body: dict[str, str], status: int, article: str
) -> None:
    record_id = rights.record()
    refused(attach(rights, record_id=record_id, **body), status, article)
    assert served(rights, "self", record_id)["subject_statements"] == []


def test_art_37_only_the_subject_states_about_their_own_records(rights: Rights) -> None:
    foreign = rights.record(subject=new_id_number())
    response = attach(rights, record_id=foreign, kind="statement", text="说明")
    refused(response, 404, "Art. 37 para. 2")
    own = rights.record()
    bank = attach(rights, "establishment", record_id=own, kind="statement", text="说明")
    refused(bank, 403, "Art. 37 para. 2")
