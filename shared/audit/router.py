"""The admin's view of the audit log: newest first, searchable by subject and by actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shared.audit import service
from shared.audit.schemas import AuditEntryPublic
from shared.db import SessionDep
from shared.identity.principal import AdminPrincipal
from shared.pagination import Page, PageDep

admin_router = APIRouter(prefix="/v1/admin", tags=["admin"])


Filter = Annotated[str | None, Query(min_length=1, max_length=254)]


@admin_router.get("/audit-log")
async def audit_log(
    admin: AdminPrincipal,
    session: SessionDep,
    page: PageDep,
    subject_id: Filter = None,
    subject_type: Filter = None,
    actor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=254,
            description="As the log names it (`user:<id>`, `api_key:<id>`, `system`), or a "
            "staff login's email.",
        ),
    ] = None,
) -> Page[AuditEntryPublic]:
    """Who did what to which record, newest first. Filters are exact; an actor given as an
    email is the login holding it (none → an empty page)."""
    rows, total = await service.search(
        session,
        subject_id=subject_id,
        subject_type=subject_type,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
    )
    items = [AuditEntryPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
