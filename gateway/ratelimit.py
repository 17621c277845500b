"""Rate limits: keyed by the authenticated client id, or by IP for anonymous calls.

slowapi's ``Limiter`` holds the configuration and the counter storage — in memory by default,
Redis when ``GATEWAY_REDIS_URL`` is set, so several gateway processes share one budget per
client. The check itself is an app-wide dependency rather than slowapi's middleware, because it
must see the matched route (for per-route limits such as the public lookup's) and the
authenticated principal, and must answer with the gateway's own problem document.

The citizen sign-in has one budget for the API (``POST /v1/me/token``) and the portal together,
spent twice per attempt: per IP, and per account (:func:`spend_sign_in`), so that guessing one
citizen's password from many addresses is bounded too. The regulator console's sign-in has a
budget of its own, spent the same two ways.

The IP is the peer's, unless the peer is one of ``GATEWAY_TRUSTED_PROXIES``: then the client is
the first address of its ``X-Forwarded-For`` not itself a trusted proxy (uvicorn's
``ProxyHeadersMiddleware``, which :func:`gateway.app.create_app` installs with that list and
``gateway serve`` configures with it). With no trusted proxy, the default, the header is
ignored: a caller cannot pick the address its budget is counted under.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from hashlib import sha256

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from redis.exceptions import RedisError
from slowapi import Limiter

from gateway.settings import Settings
from problems import GatewayError, ServiceUnavailable

# Routes with a budget of their own, by route template; every other route has the default.
PUBLIC_LOOKUP = "/v1/public/credit-subjects/{identifier}"
CITIZEN_SIGN_IN = "/v1/me/token"
PORTAL_SIGN_IN = "/portal/session"
OVERSIGHT_SIGN_IN = "/oversight/session"
REPORT_VERIFICATION = "/v1/reports/{number}/verification"
SECOND_FACTOR_PROOFS = "/v1/me/second-factor/proofs"
PORTAL_DECISIONS = (
    "/portal/requests/{grant_id}/approve",
    "/portal/requests/{grant_id}/reject",
    "/portal/consents/{grant_id}/revoke",
    "/portal/consents/{grant_id}/resume",
)
"""Where a second factor is verified: a six-digit code must not be guessed at leisure."""
SIGN_IN = "sign-in"
"""The budget both citizen sign-in routes spend: one for the API and the portal together."""
OFFICER_SIGN_IN = "officer-sign-in"
"""The budget of the regulator console's sign-in."""


class RateLimited(GatewayError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(f"rate limit of {limit} exceeded; retry after {retry_after} s")
        self.headers["Retry-After"] = str(retry_after)


class CountersInMemory(MemoryStorage):
    """limits' in-process counters without their expiry timer.

    ``MemoryStorage`` starts a ``threading.Timer`` (a new thread) whenever its last one has
    ended, 10 ms after it started: under load, a thread created every few requests, to drop
    the expired entries of moving windows. The limits here are fixed windows, whose counters
    the storage expires when it reads them (``get``, which every ``incr`` calls first), so the
    timer has nothing to do. Registered under its own scheme for :func:`limits.storage.
    storage_from_string`, as slowapi builds its storage from a URI.
    """

    STORAGE_SCHEME = ["gateway-memory"]  # noqa: RUF012 - as limits declares it

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the parent's private name
        """Nothing to schedule: fixed windows expire on read."""


IN_MEMORY = "gateway-memory://"


class RateLimits:
    """The limits per route and the shared counters behind them."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = Limiter(
            key_func=client_key,
            storage_uri=settings.redis_url or IN_MEMORY,
            key_prefix="gateway",
        )
        self.shared = bool(settings.redis_url)
        """Whether the counters are kept in Redis (a check waits for it), not in this process."""
        self.default = parse_many(settings.rate_limit_default)
        self.sign_in = parse_many(settings.rate_limit_sign_in)
        self.per_route = {
            PUBLIC_LOOKUP: parse_many(settings.rate_limit_public),
            REPORT_VERIFICATION: parse_many(settings.rate_limit_public),
            CITIZEN_SIGN_IN: self.sign_in,
            PORTAL_SIGN_IN: self.sign_in,
            OVERSIGHT_SIGN_IN: self.sign_in,
            SECOND_FACTOR_PROOFS: self.sign_in,
            **dict.fromkeys(PORTAL_DECISIONS, self.sign_in),
            # Probes answer whatever the load or the limit store: orchestrators poll them.
            "/healthz": [],
            "/readyz": [],
        }
        self.budgets = {
            CITIZEN_SIGN_IN: SIGN_IN,
            PORTAL_SIGN_IN: SIGN_IN,
            OVERSIGHT_SIGN_IN: OFFICER_SIGN_IN,
        }

    def check(self, request: Request) -> None:
        route = getattr(request.scope.get("route"), "path", "")
        items = self.per_route.get(route, self.default)
        self.spend(items, client_key(request), self.budgets.get(route, route))

    def spend(self, items: Sequence[RateLimitItem], key: str, budget: str) -> None:
        """One hit on each of ``items`` for ``key`` in ``budget``; 429 once one is spent."""
        for item in items:
            try:
                if self.limiter.limiter.hit(item, key, budget):
                    continue
                reset_at, _ = self.limiter.limiter.get_window_stats(item, key, budget)
            except RedisError as exc:  # fail closed: no budget known, no request served
                raise ServiceUnavailable("the rate-limit store is unreachable") from exc
            raise RateLimited(item, max(1, int(reset_at - time.time())))


def client_key(request: Request) -> str:
    """The authenticated client id when the request carried valid credentials, else the IP."""
    client_id = getattr(request.state, "client_id", None)
    if isinstance(client_id, str):
        return f"client:{client_id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


def enforce_rate_limit(request: Request) -> None:
    """App-wide dependency: refuse the request once its client's budget is spent."""
    limits: RateLimits = request.app.state.rate_limits
    limits.check(request)


def spend_sign_in(request: Request, username: str, budget: str = SIGN_IN) -> None:
    """A sign-in attempt against ``username``'s account: refused once the account's budget
    is spent, whatever address the attempts come from. The key is a hash of the username,
    so the limit store holds no account name."""
    limits: RateLimits = request.app.state.rate_limits
    account = sha256(username.encode()).hexdigest()[:32]
    limits.spend(limits.sign_in, f"account:{account}", budget)
