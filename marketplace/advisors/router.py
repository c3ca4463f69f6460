"""Advisor routes (their buyers, messages, diversion alerts), the buyer's side of the
conversation, and the admin's advisor logins."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from marketplace.advisors import service
from marketplace.advisors.exceptions import AlertNotFound, BuyerNotFound, NoAdvisorYet
from marketplace.advisors.schemas import (
    AdvisedBuyer,
    AdvisorPublic,
    DiversionAlert,
    MessageCreate,
    MessagePublic,
)
from shared import audit
from shared.db import SessionDep, utcnow
from shared.errors import error_responses
from shared.identity import exceptions as identity_exceptions
from shared.identity import service as identity_service
from shared.identity.models import UserKind
from shared.identity.principal import AdminPrincipal, AdvisorPrincipal, BuyerPrincipal
from shared.identity.schemas import AdvisorCreate, UserPublic
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/advisor", tags=["advisor"])
buyer_router = APIRouter(prefix="/v1/buyer", tags=["buyer"])
admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/buyers")
async def my_buyers(
    advisor: AdvisorPrincipal, session: SessionDep, page: PageDep
) -> Page[AdvisedBuyer]:
    """The advisor's buyers, each with their latest pre-approval's status and expiry, and how
    many of their messages the advisor has not read."""
    rows, total = await service.advised_buyers(
        session, advisor, limit=page.limit, offset=page.offset
    )
    items = [AdvisedBuyer.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/alerts")
async def alerts(advisor: AdvisorPrincipal, session: SessionDep) -> list[DiversionAlert]:
    """Approvals of the advisor's buyers looked up at a dealer over a day ago and still not
    confirmed: the deal may be going off the platform (飞单); call the buyer."""
    return [
        DiversionAlert.model_validate(row)
        for row in await service.alerts(session, advisor, utcnow())
    ]


@router.post(
    "/alerts/{lookup_id}/handled",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(AlertNotFound),
)
async def handle_alert(
    lookup_id: uuid.UUID, advisor: AdvisorPrincipal, session: SessionDep
) -> Response:
    """Mark a diversion alert handled: it leaves the list. Marking it again changes nothing."""
    await service.handle_alert(session, advisor, lookup_id, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/buyers/{buyer_id}/messages/read",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(BuyerNotFound),
)
async def read_conversation(
    buyer_id: uuid.UUID, advisor: AdvisorPrincipal, session: SessionDep
) -> Response:
    """The advisor has read the conversation: the buyer's messages so far are no longer unread."""
    await service.mark_conversation_read(session, advisor, buyer_id, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/buyers/{buyer_id}/messages", responses=error_responses(BuyerNotFound))
async def read_messages(
    buyer_id: uuid.UUID, advisor: AdvisorPrincipal, session: SessionDep, page: PageDep
) -> Page[MessagePublic]:
    rows, total = await service.advisor_conversation(
        session, advisor, buyer_id, limit=page.limit, offset=page.offset
    )
    items = [MessagePublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/buyers/{buyer_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(BuyerNotFound),
)
async def message_buyer(
    buyer_id: uuid.UUID, body: MessageCreate, advisor: AdvisorPrincipal, session: SessionDep
) -> MessagePublic:
    await service.ensure_advises(session, advisor, buyer_id)
    message = await service.send(
        session, buyer_id=buyer_id, advisor_id=advisor.uid, sender="advisor", body=body.body
    )
    return MessagePublic.model_validate(message)


# Named as the buyer's route has always been (its OpenAPI operation id and summary).
@buyer_router.get("/messages", name="read_messages", responses=error_responses(NoAdvisorYet))
async def read_messages_with_advisor(
    buyer: BuyerPrincipal, session: SessionDep, page: PageDep
) -> Page[MessagePublic]:
    """The conversation with the buyer's advisor, oldest first."""
    rows, total = await service.buyer_conversation(
        session, buyer, limit=page.limit, offset=page.offset
    )
    return Page(
        items=[MessagePublic.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@buyer_router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NoAdvisorYet),
)
async def message_advisor(
    body: MessageCreate, buyer: BuyerPrincipal, session: SessionDep
) -> MessagePublic:
    advisor_id = await service.buyer_advisor(session, buyer)
    message = await service.send(
        session, buyer_id=buyer.uid, advisor_id=advisor_id, sender="buyer", body=body.body
    )
    return MessagePublic.model_validate(message)


@admin_router.post(
    "/advisors",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(identity_exceptions.EmailTaken),
)
async def create_advisor(
    body: AdvisorCreate, admin: AdminPrincipal, session: SessionDep
) -> UserPublic:
    """Create a platform advisor login. Approved buyers still waiting for an advisor are
    assigned at once (each to the least loaded advisor)."""
    advisor = await identity_service.create_user(
        session,
        kind=UserKind.advisor,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
    )
    audit.record(
        session, actor=admin, action="advisor.created", subject_type="user", subject_id=advisor.id
    )
    await session.flush()
    await service.assign_waiting_buyers(session)
    return UserPublic.model_validate(advisor)


@admin_router.get("/advisors")
async def list_advisors(
    admin: AdminPrincipal, session: SessionDep, page: PageDep
) -> Page[AdvisorPublic]:
    """Every advisor login, oldest first, with how many buyers each advises."""
    rows, total = await service.advisors(session, limit=page.limit, offset=page.offset)
    items = [AdvisorPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
