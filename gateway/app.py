"""The application factory: settings in, a wired FastAPI app out."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway import telemetry
from gateway.archive.service import archive_catalog
from gateway.audit_log.service import running_audit_log
from gateway.auth import screen
from gateway.body_limit import BodyLimitMiddleware
from gateway.console import registry_pages
from gateway.console.routes import install_console
from gateway.docs import mount_docs
from gateway.inquiries.service import CountedUse
from gateway.keys import load_keys
from gateway.notifications.transports import Transports
from gateway.oauth.dpop import DPoPGuard
from gateway.oauth.service import AuthServer
from gateway.openapi_doc import problem_openapi
from gateway.parties.oidc import IdentityProvider
from gateway.portal.routes import install_portal
from gateway.problem_handlers import add_exception_handlers, problem_responses
from gateway.ratelimit import RateLimits
from gateway.rights.scheduler import JobContext, running_scheduler
from gateway.rights.service import Deadlines
from gateway.routes import (
    access_log,
    audit,
    catalog,
    citizen_auth,
    consents,
    factors,
    health,
    inquiries,
    notifications,
    oauth,
    oversight,
    records,
    registry,
    reports,
    rights,
    subjects,
    tlog,
    webhooks,
    written_consents,
)
from gateway.security_headers import SecurityHeadersMiddleware
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.storage.migrate import require_current
from gateway.storage.reads import Query, driver_reads
from gateway.webhooks.worker import running_webhook_worker

DESCRIPTION = """\
The one door through which a province's credit archives are read: every read lawful
(a consent, a legal basis or the subject's own), minimal (redacted to what the channel may
see) and visible (in a signed, verifiable audit log before the answer leaves).

Every error is `application/problem+json` (RFC 9457); policy denials name the article of the
regulation they apply.
"""


ROUTERS = (
    inquiries.router,  # first: requests are matched in this order, and the inquiries carry the load
    health.router,
    oauth.router,
    audit.router,
    tlog.router,
    citizen_auth.router,
    consents.router,
    consents.citizen_router,
    factors.router,
    webhooks.router,
    catalog.router,
    records.router,
    written_consents.router,
    written_consents.citizen_router,
    access_log.router,
    rights.router,
    reports.router,
    notifications.router,
    oversight.router,
    subjects.router,
    registry.router,
)
"""The API's routers, in the order requests are matched and of the OpenAPI document."""
SETTLEMENTS = (CountedUse.__module__,)
"""The modules of the settlements the log's writer process receives, imported before it is
ready (:mod:`gateway.audit_log.writer`): the registries' changes are written in this process."""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = engine or make_engine(settings.resolved_database_url)
    telemetry.install(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        require_current(engine)
        app.state.keys = load_keys(settings)
        app.state.auth_server = AuthServer.for_issuer(
            settings.base_url, app.state.keys.signing_rings()
        )
        app.state.dpop = DPoPGuard.of(settings, engine, app.state.keys)
        app.state.identity_provider = IdentityProvider.configured(settings)
        with (
            running_audit_log(
                engine, settings, app.state.keys, settings.audit_writer, SETTLEMENTS
            ) as app.state.audit_log,
            running_webhook_worker(
                engine,
                settings.webhook_interval,
                audit_log=app.state.audit_log,
                transports=partial(Transports, settings),
            ),
            running_scheduler(
                _jobs(app, engine, settings),
                settings.scheduler_interval,
                enabled=settings.scheduler_enabled,
            ),
        ):
            _build_before_serving(app, engine, routes=settings.prepare_routes)
            # What start-up built lives while requests are served: the garbage collector need
            # not walk it again on every full collection meanwhile.
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()
                await app.state.audit_log.close_on_loop()
                await driver_reads(engine).close_on_loop()

    app = FastAPI(
        title="Credit-inquiry consent gateway",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=problem_responses(413, 429),
        dependencies=[Depends(screen)],
        # FastAPI's own spans record the raw path and its logs the submitted values; both can
        # hold identifiers, so the gateway's TelemetryMiddleware is the only instrumentation.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.rate_limits = RateLimits(settings)

    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]
    add_exception_handlers(app, https=settings.https)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    if not telemetry.tracer.quiet:  # no exporter: no span to record, no layer to pass
        app.add_middleware(telemetry.TelemetryMiddleware)
    if settings.trusted_proxies:  # the client's address from X-Forwarded-For, only from them
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    mount_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    install_portal(app)
    install_console(app)
    app.include_router(registry_pages.router)
    return app


def _build_before_serving(app: FastAPI, engine: Engine, *, routes: bool) -> None:
    """Build now what a process would otherwise build on its first requests, once: the catalog
    in force (its file parsed, every item screened for prohibited information, Art. 62), each
    route's state (FastAPI builds it when a request is first matched against the route's
    router) and the statements read at the driver level. Built on demand, they held up each
    new process's first inquiry for 130 ms, and the first seconds of four processes started
    under load for 300 ms and more at the p99.

    The catalog and the statements are built once a process; the routes' state once an app
    (about 0.3 s), unless ``routes`` is off (``GATEWAY_PREPARE_ROUTES``): the test suite's
    thousands of apps serve a few requests each."""
    archive_catalog()
    if routes:
        probe: Scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "root_path": "",
            "headers": [],
        }
        for route in app.router.routes:
            route.matches(probe)
    Query.compile_all(engine.dialect)


def _jobs(app: FastAPI, engine: Engine, settings: Settings) -> JobContext:
    """What the periodic jobs run with: this app's log, keys and authorization server."""
    state = app.state
    return JobContext(
        engine, state.audit_log, state.keys, state.auth_server, Deadlines.of(settings), settings
    )
