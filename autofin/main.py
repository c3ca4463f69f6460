"""The Autofin API: one FastAPI app composed from the domain routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from autofin import migrate
from dealer_portal import webhooks as dealer_webhooks
from dealer_portal.router import routers as dealer_portal_routers
from marketplace import refusals
from marketplace.router import routers as marketplace_routers
from marketplace.servicing import webhooks as servicing_webhooks
from pricing import PricingInputError
from shared.audit.router import admin_router as audit_admin_router
from shared.brands.router import admin_router as brand_admin_router
from shared.brands.router import router as brand_router
from shared.db import Database, DatabaseDep
from shared.errors import answer_as, install_error_handlers
from shared.identity.router import admin_router, auth_router, dev_router
from shared.observability import RequestIdMiddleware, configure_logging
from shared.payments.gateway import PaymentGateway
from shared.payments.transfers import TransferGateway, transfer_gateway_for
from shared.payments.webhooks import router as stripe_webhook_router
from shared.payments.webhooks import webhook_handlers
from shared.settings import get_settings
from shared.web import openapi
from shared.web.admission import AdmissionControl
from shared.web.limits import BodySizeLimit, RefuseControlCharacters
from shared.web.locale import LocaleMiddleware
from shared.web.pages import i18n_router, static_files
from shared.web.retry import TransientRetry
from shared.webhooks import router as webhooks

health_router = APIRouter(tags=["health"])


@health_router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@health_router.get("/readyz", responses={503: {"description": "database unreachable or behind"}})
async def readyz(database: DatabaseDep) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    heads = migrate.head_revisions()
    try:
        async with database.engine.connect() as connection:
            current = await migrate.current_revisions(connection)
    except Exception:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if current != heads:
        body = {"status": "unavailable", "database": "migrations pending"}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "migrations": sorted(current)})


def create_app(
    database: Database | None = None,
    payment_gateway: PaymentGateway | None = None,
    transfer_gateway: TransferGateway | None = None,
) -> FastAPI:
    """Build the app; without a ``database`` it connects to the configured one on startup,
    without a ``payment_gateway`` it builds one from the Stripe settings, and pays dealers
    through it (or the sandbox, against the emulator) unless given a ``transfer_gateway``."""
    settings = get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.database is None
        if owned:
            if not settings.database_url:
                raise RuntimeError(
                    "AUTOFIN_DATABASE_URL is not set (autofin serve sets it for you)"
                )
            app.state.database = Database.from_url(
                settings.database_url,
                pool_size=settings.db_pool_size,
                pool_timeout=settings.db_pool_timeout_seconds,
            )
        yield
        if owned_gateway:
            await app.state.payment_gateway.aclose()
        if owned:
            await app.state.database.dispose()

    app = FastAPI(
        title="Autofin",
        version="0.1.0",
        description=(
            "Auto-finance marketplace and dealer SaaS. Log in with **Authorize** "
            "(email and password), or send an organisation API key as a bearer token."
        ),
        lifespan=lifespan,
    )
    app.state.database = database
    owned_gateway = payment_gateway is None
    app.state.payment_gateway = payment_gateway or PaymentGateway.from_settings(settings)
    app.state.transfer_gateway = transfer_gateway or transfer_gateway_for(app.state.payment_gateway)
    # Added innermost first: the reader's language and a request id for everything, then
    # admission, then transient retries.
    app.add_middleware(TransientRetry)
    app.add_middleware(
        AdmissionControl,
        max_in_flight=settings.max_in_flight,
        max_queued=settings.max_queued,
        queue_timeout=settings.queue_timeout_seconds,
        shed_delay=settings.shed_delay_seconds,
    )
    # Size and control characters are refused before admission: nothing waits for a turn
    # only to be refused.
    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=max(settings.max_body_bytes, settings.max_document_bytes + 64 * 1024),
    )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(LocaleMiddleware)
    app.mount("/static", static_files(), name="static")
    install_error_handlers(app)
    # An input pricing cannot take, wherever the request reached pricing from: 422 naming the
    # field, in the reader's language.
    app.add_exception_handler(PricingInputError, answer_as(refusals.invalid_input))
    dealer_webhooks.register(webhook_handlers)
    servicing_webhooks.register(webhook_handlers)
    # Every route is the app's own: FastAPI matches a request against an included router by
    # walking a wrapper and its per-router context for every router it passes, which cost a
    # calculator request a fifth of its CPU; the routes themselves already carry their full
    # paths (no router here adds a prefix, tag or dependency when included), so they are
    # served as they are, in this order.
    for router in (
        health_router,
        auth_router,
        admin_router,
        audit_admin_router,
        dev_router,
        brand_router,
        brand_admin_router,
        *marketplace_routers,
        *dealer_portal_routers,
        stripe_webhook_router,
        webhooks.lender_router,
        webhooks.dealer_router,
        i18n_router,
    ):
        app.router.routes.extend(router.routes)
    openapi.install(app)
    return app
