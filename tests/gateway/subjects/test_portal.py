"""The portal for every kind of subject: a representative signed in through the identity
provider chooses the company, sees its file, applies for restoration there (Art. 66 para. 1);
an entity the person has no authority for cannot be chosen."""

from __future__ import annotations

import uuid

from tests.gateway.portal.factories import csrf_token
from tests.gateway.subjects.factories import Subjects
from tests.gateway.subjects.test_entities import listing, submit


def test_the_representative_applies_for_restoration_for_the_company(world: Subjects) -> None:
    assert world.provider is not None
    number, _ = world.person("周敏")
    code, entity = world.entity(number)
    record = submit(world, listing(code))
    username = f"rep-{uuid.uuid4().hex[:6]}"
    world.provider.users[username] = number
    client = world.client
    assert world.oidc_sign_in(client, username).status_code == 200

    acting = client.get("/portal/acting").text
    assert code in acting and "法定代表人" in acting
    assert world.act_for(client, entity).status_code == 303
    report = client.get("/portal/credit-report").text
    assert 'id="acting-banner"' in report
    action = f"/portal/credit-report/{record}/restoration"
    assert f'action="{action}"' in report
    form = {"csrf_token": csrf_token(report), "reason": "已履行全部义务"}
    applied = client.post(action, data=form, follow_redirects=False)
    assert applied.status_code == 303, applied.text
    assert applied.headers["location"].endswith("notice=restoration_applied")
    page = client.get("/portal/credit-report").text
    assert "待决定" in page
    held = world.client.get(
        "/v1/restoration-applications", headers=world.headers("provider")
    ).json()
    assert record in {entry["record_id"] for entry in held["applications"]}
    client.cookies.clear()


def test_an_entity_without_authority_cannot_be_chosen(world: Subjects) -> None:
    assert world.provider is not None
    owner, _ = world.person()
    _, entity = world.entity(owner)
    stranger, _ = world.person()
    username = f"stranger-{uuid.uuid4().hex[:6]}"
    world.provider.users[username] = stranger
    client = world.client
    assert world.oidc_sign_in(client, username).status_code == 200
    refused = world.act_for(client, entity)
    assert refused.status_code == 403
    assert "您无权代表该组织办理" in refused.text
    assert 'id="acting-banner"' not in client.get("/portal/requests").text
    client.cookies.clear()
