"""The brand catalogue: anyone reads it, platform admins edit it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from shared.brands import service
from shared.brands.exceptions import BrandExists, BrandNameTaken, BrandNotFound
from shared.brands.schemas import BrandCreate, BrandPublic, BrandUpdate
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.principal import AdminPrincipal
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/brands", tags=["brands"])
admin_router = APIRouter(prefix="/v1/admin/brands", tags=["admin"])


@router.get("")
async def list_brands(
    session: SessionDep,
    page: PageDep,
    q: Annotated[
        str | None,
        Query(max_length=50, description="Only brands one of whose names or aliases starts so."),
    ] = None,
) -> Page[BrandPublic]:
    """The brand catalogue: every brand's id, Chinese and English names and aliases."""
    rows, total = await service.brands(session, q, limit=page.limit, offset=page.offset)
    items = [BrandPublic.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{brand_id}", responses=error_responses(BrandNotFound))
async def get_brand(brand_id: str, session: SessionDep) -> BrandPublic:
    return BrandPublic.model_validate(await service.get(session, brand_id))


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(BrandExists, BrandNameTaken),
)
async def create_brand(
    body: BrandCreate, admin: AdminPrincipal, session: SessionDep
) -> BrandPublic:
    """Add a brand; none of its names may already name another brand."""
    return BrandPublic.model_validate(await service.create(session, admin, body))


@admin_router.patch("/{brand_id}", responses=error_responses(BrandNotFound, BrandNameTaken))
async def update_brand(
    brand_id: str, body: BrandUpdate, admin: AdminPrincipal, session: SessionDep
) -> BrandPublic:
    """Rename a brand or change its aliases and manufacturers; its id never changes."""
    return BrandPublic.model_validate(await service.update(session, admin, brand_id, body))
