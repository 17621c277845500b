"""The citizen sign-in has a tight per-IP budget of its own against password guessing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.gateway.test_problems import assert_problem


def test_password_guessing_runs_into_the_sign_in_budget(client: TestClient) -> None:
    form = {"username": "zhang.wei", "password": "guess"}
    answers = [client.post("/v1/me/token", data=form).status_code for _ in range(10)]
    assert answers == [400] * 10
    refused = client.post("/v1/me/token", data=form)
    assert_problem(refused, 429)
    assert refused.headers["retry-after"]
    assert client.get("/healthz").status_code == 200  # only the sign-in budget is spent
