"""The lender API for loan products: create, edit (a new version each time), list, retire."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from marketplace.products import service
from marketplace.products.exceptions import (
    InconsistentProductTerms,
    ProductNotFound,
    ProductRetired,
)
from marketplace.products.models import Product, ProductStatus, ProductVersion
from marketplace.products.schemas import (
    ProductCreate,
    ProductDetail,
    ProductPublic,
    ProductTermsBase,
    ProductUpdate,
    ProductVersionPublic,
)
from shared.brands.exceptions import UnknownBrand
from shared.db import SessionDep
from shared.errors import error_responses
from shared.identity.principal import LenderPrincipal
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/lender/products", tags=["lender"])


def _public(product: Product, version: ProductVersion) -> ProductPublic:
    terms = ProductTermsBase.model_validate(version, from_attributes=True)
    return ProductPublic(
        **dict(terms),
        id=product.id,
        lender_id=product.lender_id,
        status=product.status,
        version=version.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(InconsistentProductTerms, UnknownBrand),
)
async def create_product(
    body: ProductCreate, lender: LenderPrincipal, session: SessionDep
) -> ProductPublic:
    """List a new product (version 1). Every rate must be within the legal cap."""
    product, version = await service.create_product(session, lender, body)
    return _public(product, version)


@router.get("")
async def list_products(
    lender: LenderPrincipal,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ProductStatus | None, Query()] = None,
) -> Page[ProductPublic]:
    """The caller's products with their current terms, oldest first."""
    rows, total = await service.lender_products(
        session, lender.org_id, status=status, limit=page.limit, offset=page.offset
    )
    items = [_public(product, version) for product, version in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{product_id}", responses=error_responses(ProductNotFound))
async def get_product(
    product_id: uuid.UUID, lender: LenderPrincipal, session: SessionDep
) -> ProductDetail:
    """One of the caller's products: its current terms and every version, oldest first."""
    product, versions = await service.get_product(session, lender.org_id, product_id)
    return ProductDetail(
        **dict(_public(product, versions[-1])),
        versions=[ProductVersionPublic.model_validate(v) for v in versions],
    )


@router.patch(
    "/{product_id}",
    responses=error_responses(
        ProductNotFound, ProductRetired, InconsistentProductTerms, UnknownBrand
    ),
)
async def update_product(
    product_id: uuid.UUID, body: ProductUpdate, lender: LenderPrincipal, session: SessionDep
) -> ProductPublic:
    """Change some terms: the result is a new version; earlier versions stay as they were, so
    offers already made on them keep their rates."""
    product, version = await service.update_product(session, lender, product_id, body)
    return _public(product, version)


@router.post("/{product_id}/retire", responses=error_responses(ProductNotFound, ProductRetired))
async def retire_product(
    product_id: uuid.UUID, lender: LenderPrincipal, session: SessionDep
) -> ProductPublic:
    """Stop offering the product; offers already made on it are unaffected."""
    product, version = await service.retire_product(session, lender, product_id)
    return _public(product, version)
