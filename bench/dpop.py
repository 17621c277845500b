"""Sender-constrained calls (RFC 9449): what a DPoP proof costs the gateway per request.

Value: the median milliseconds of an establishment's authenticated call (``GET`` of a consent
it does not have: authentication, then a 404) with a DPoP-bound token and a fresh proof -
the proof's signature, its claims, the nonce and the ``jti`` written to the replay cache
(the database here: SQLite). Baseline, the same run: the same call with a bearer token.
Proofs are signed before the clock starts (the client's cost, not the gateway's). Target:
p50 <= 20 ms. ``--quick`` makes 100 calls of each kind, else 500.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from bench import Context, Measurement, benchmark, median_and_p99_ms
from bench.harness import Province
from gateway.app import create_app
from gateway.demo import client_assertion, dpop_proof

TARGET_MS = 20.0
PATH = "/v1/consents/cg_no_such_grant"


@benchmark(
    "oauth.dpop_call.p50",
    unit="ms per call",
    target=TARGET_MS,
    higher_is_better=False,
    baseline="the same call with a bearer token",
)
def dpop_call(context: Context) -> Measurement:
    count = 100 if context.quick else 500
    province = Province.create(context.scratch / "dpop", checkpoint_interval="3600")
    settings = province.settings
    app = create_app(settings)
    endpoint = f"{settings.base_url}/oauth/token"
    with TestClient(app, base_url=settings.base_url) as client:
        bank, finance = (
            province.credentials["establishment"],
            province.credentials["establishment_dpop"],
        )

        def token(persona: dict[str, object], proof: str | None) -> str:
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion(persona, endpoint),
            }
            headers = {"DPoP": proof} if proof else {}
            issued: str = client.post("/oauth/token", data=form, headers=headers).json()[
                "access_token"
            ]
            return issued

        asked = client.post("/oauth/token", headers={"DPoP": dpop_proof(finance, "POST", endpoint)})
        nonce = asked.headers["DPoP-Nonce"]
        bound = token(finance, dpop_proof(finance, "POST", endpoint, nonce=nonce))
        bearer = {"Authorization": f"Bearer {token(bank, None)}"}
        url = f"{settings.base_url}{PATH}"
        proofs: Iterator[str] = iter(
            [
                dpop_proof(finance, "GET", url, access_token=bound, nonce=nonce)
                for _ in range(count + 1)
            ]
        )

        def with_proof() -> None:
            headers = {"Authorization": f"DPoP {bound}", "DPoP": next(proofs)}
            assert client.get(PATH, headers=headers).status_code == 404

        def with_bearer() -> None:
            assert client.get(PATH, headers=bearer).status_code == 404

        with_proof()  # warm
        with_bearer()
        p50, p99 = median_and_p99_ms(with_proof, count)
        bearer_p50, bearer_p99 = median_and_p99_ms(with_bearer, count)
    app.state.engine.dispose()
    details = {
        "calls": count,
        "p99_ms": round(p99, 2),
        "bearer_p50_ms": round(bearer_p50, 2),
        "bearer_p99_ms": round(bearer_p99, 2),
        "replay_cache": "database (SQLite)",
    }
    return Measurement(p50, bearer_p50, details)
