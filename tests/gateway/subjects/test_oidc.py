"""Real-name sign-in through the provincial identity provider (OpenID Connect), against a real
provider (authlib's authorization server over HTTP): discovery, JWKS, the authorization code
flow with PKCE, state and nonce, the ID token's signature and claims. A citizen imported from
a CSV of 10,000 rows signs in there and approves a consent in the portal."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli
from tests.gateway.consents.factories import totp_codes
from tests.gateway.portal.factories import submit
from tests.gateway.subjects.factories import Subjects, new_id_number

IMPORTED = 10_000


def cli_env(world: Subjects) -> dict[str, str]:
    return {
        "GATEWAY_VAR_DIR": str(world.settings.var_dir),
        "GATEWAY_DATABASE_URL": world.settings.resolved_database_url,
    }


def test_a_citizen_imported_from_10000_rows_signs_in_there_and_approves(
    world: Subjects, tmp_path: Path
) -> None:
    assert world.provider is not None
    rng = random.Random(13)
    numbers: list[str] = []
    while len(numbers) < IMPORTED:
        number = new_id_number(rng)
        if number not in numbers[-50:]:
            numbers.append(number)
    numbers = list(dict.fromkeys(numbers))
    file = tmp_path / "citizens.csv"
    with file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["full_name", "id_number"])
        writer.writerows([f"公民{index}", number] for index, number in enumerate(numbers))
    result = CliRunner().invoke(cli, ["subjects", "import", str(file)], env=cli_env(world))
    assert result.exit_code == 0, result.output
    assert f"{len(numbers)} enrolled, 0 unchanged, 0 refused" in result.output
    chosen = numbers[7_345]
    world.provider.users["gongmin"] = chosen

    grant = world.request_about("id_number", chosen)
    client = world.client
    callback = world.oidc_sign_in(client, "gongmin")
    assert callback.status_code == 200, callback.text
    assert 'http-equiv="refresh"' in callback.text
    pending = client.get("/portal/requests")
    assert grant in pending.text
    approve = f"/portal/requests/{grant}/approve"
    chosen_categories = {"categories": ["basic", "untrustworthy"]}
    # Art. 61(2): signed in, but without a second factor of the device, nothing is decided.
    refused = submit(client, approve, chosen_categories)
    assert refused.status_code == 403 and "Art. 61(2)" in refused.text
    seen = world.client.get(f"/v1/consents/{grant}", headers=world.headers("establishment"))
    assert seen.json()["state"] == "pending"
    # The factor after the first sign-in: an authenticator app, confirmed with a first code.
    provisioned = submit(client, "/portal/factors/totp", page="/portal/factors")
    secret = re.search(r'<code class="secret">([A-Z2-7]{32})</code>', provisioned.text)
    confirm = re.search(r'action="(/portal/factors/totp/fa_[^"]+/confirmation)"', provisioned.text)
    assert secret is not None and confirm is not None
    earlier, current, _ = totp_codes(secret.group(1))
    submit(client, confirm.group(1), {"code": earlier}, page="/portal/factors")
    approved = submit(client, approve, {**chosen_categories, "totp_code": current})
    assert approved.status_code == 303, approved.text
    answer = world.inquire(grant, "id_number", chosen)
    assert answer.status_code == 200, answer.text
    assert answer.json()["audit"]["leaf_index"] >= 0
    client.cookies.clear()


def test_the_authorization_request_carries_pkce_state_and_nonce(world: Subjects) -> None:
    query = world.authorize_query(world.client)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0] and query["state"] != query["nonce"]
    assert "openid" in query["scope"][0].split()
    world.client.cookies.clear()


@pytest.mark.parametrize(
    "tamper",
    [{"nonce": "another-nonce"}, {"iss": "https://idp.example"}, {"aud": "another-client"}],
    ids=["nonce", "issuer", "audience"],
)
def test_a_wrong_id_token_is_refused(world: Subjects, tamper: dict[str, str]) -> None:
    assert world.provider is not None
    number, _ = world.person()
    world.provider.users["tampered"] = number
    world.provider.tamper.update(tamper)
    try:
        callback = world.oidc_sign_in(world.client, "tampered")
    finally:
        world.provider.tamper.clear()
    assert callback.status_code == 401
    assert world.client.get("/portal/requests", follow_redirects=False).status_code == 303
    world.client.cookies.clear()


def test_an_identity_that_is_not_enrolled_is_refused(world: Subjects) -> None:
    assert world.provider is not None
    world.provider.users["stranger"] = new_id_number()
    callback = world.oidc_sign_in(world.client, "stranger")
    assert callback.status_code == 401
    assert "oidc" not in callback.headers.get("location", "")
    assert world.client.get("/portal/requests", follow_redirects=False).status_code == 303
    world.client.cookies.clear()


def test_a_callback_without_the_sign_in_it_started_is_refused(world: Subjects) -> None:
    assert world.provider is not None
    number, _ = world.person()
    world.provider.users["replayed"] = number
    world.oidc_sign_in(world.client, "replayed")
    world.client.cookies.clear()
    forged = world.client.get("/portal/oidc/callback?code=abc&state=def", follow_redirects=False)
    assert forged.status_code == 401
    world.client.get("/portal/oidc/start", follow_redirects=False)
    wrong_state = world.client.get(
        "/portal/oidc/callback?code=abc&state=not-the-state", follow_redirects=False
    )
    assert wrong_state.status_code == 401
    world.client.cookies.clear()


def test_the_sign_in_page_offers_the_provider(world: Subjects) -> None:
    world.client.cookies.clear()
    page = world.client.get("/portal/sign-in").text
    assert 'href="/portal/oidc/start"' in page
