"""Rate limits: keyed by the authenticated client id, or by IP for anonymous calls.

slowapi's ``Limiter`` holds the configuration and the counter storage — in memory by default,
Redis when ``GATEWAY_REDIS_URL`` is set, so several gateway processes share one budget per
client. The check itself is an app-wide dependency rather than slowapi's middleware, because it
must see the matched route (for per-route limits such as the public lookup's) and the
authenticated principal, and must answer with the gateway's own problem document.
"""

from __future__ import annotations

import time

from fastapi import Request
from limits import RateLimitItem, parse_many
from redis.exceptions import RedisError
from slowapi import Limiter
from slowapi.util import get_remote_address

from gateway.settings import Settings
from problems import GatewayError, ServiceUnavailable

# Routes with a budget of their own, by route template; every other route has the default.
PUBLIC_LOOKUP = "/v1/public/credit-subjects/{identifier}"
CITIZEN_SIGN_IN = "/v1/me/token"
PORTAL_SIGN_IN = "/portal/session"
REPORT_VERIFICATION = "/v1/reports/{number}/verification"
SECOND_FACTOR_PROOFS = "/v1/me/second-factor/proofs"
PORTAL_DECISIONS = (
    "/portal/requests/{grant_id}/approve",
    "/portal/requests/{grant_id}/reject",
    "/portal/consents/{grant_id}/revoke",
    "/portal/consents/{grant_id}/resume",
)
"""Where a second factor is verified: a six-digit code must not be guessed at leisure."""


class RateLimited(GatewayError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(f"rate limit of {limit} exceeded; retry after {retry_after} s")
        self.headers["Retry-After"] = str(retry_after)


class RateLimits:
    """The limits per route and the shared counters behind them."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = Limiter(
            key_func=client_key,
            storage_uri=settings.redis_url or "memory://",
            key_prefix="gateway",
        )
        self.default = parse_many(settings.rate_limit_default)
        self.per_route = {
            PUBLIC_LOOKUP: parse_many(settings.rate_limit_public),
            REPORT_VERIFICATION: parse_many(settings.rate_limit_public),
            CITIZEN_SIGN_IN: parse_many(settings.rate_limit_sign_in),
            PORTAL_SIGN_IN: parse_many(settings.rate_limit_sign_in),
            SECOND_FACTOR_PROOFS: parse_many(settings.rate_limit_sign_in),
            **{route: parse_many(settings.rate_limit_sign_in) for route in PORTAL_DECISIONS},
            # Probes answer whatever the load or the limit store: orchestrators poll them.
            "/healthz": [],
            "/readyz": [],
        }

    def check(self, request: Request) -> None:
        route = getattr(request.scope.get("route"), "path", "")
        key = client_key(request)
        for item in self.per_route.get(route, self.default):
            try:
                if self.limiter.limiter.hit(item, key, route):
                    continue
                reset_at, _ = self.limiter.limiter.get_window_stats(item, key, route)
            except RedisError as exc:  # fail closed: no budget known, no request served
                raise ServiceUnavailable("the rate-limit store is unreachable") from exc
            raise RateLimited(item, max(1, int(reset_at - time.time())))


def client_key(request: Request) -> str:
    """The authenticated client id when the request carried valid credentials, else the IP."""
    client_id = getattr(request.state, "client_id", None)
    if isinstance(client_id, str):
        return f"client:{client_id}"
    return f"ip:{get_remote_address(request)}"


def enforce_rate_limit(request: Request) -> None:
    """App-wide dependency: refuse the request once its client's budget is spent."""
    limits: RateLimits = request.app.state.rate_limits
    limits.check(request)
